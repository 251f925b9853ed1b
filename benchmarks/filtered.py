"""A filtered search() per query, on 20,000 x 384 random vectors in a MemoryIndex whose
chunks carry ``part`` = row % 3 (a filter keeps a third), one thread, thread CPU time p50
over 40 queries (the first, which builds what is kept, is left out):

    .venv/bin/python benchmarks/filtered.py
    PYTHONPATH=<old checkout>/src .venv/bin/python benchmarks/filtered.py   # the code before

It uses only APIs older than the store interface (``search(..., filters=[...])``), so the
same file measures the code before it. Before, each filtered query rebuilt (and requantized)
a DenseIndex of the matching rows; now the rows and that index are kept per generation and
filter (embedlab.stores.local).
"""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits


def main(n: int = 20_000, queries: int = 40) -> None:
    import embedlab
    from embedlab.models import load_model
    from embedlab.search.memory import MemoryIndex
    from embedlab.search.pipeline import search
    from embedlab.stores.base import Chunk

    model = load_model("minilm")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, model.info.dims)).astype(np.float32)
    chunks = [
        Chunk(id=i, doc_id=i, text=f"w{i % 97} w{i % 89}", source="s", position={},
              metadata={"part": str(i % 3)})
        for i in range(n)
    ]  # fmt: skip
    index = MemoryIndex("bench", chunks, x, model.info.to_dict())
    qs = rng.standard_normal((queries, model.info.dims)).astype(np.float32)
    print(f"== filtered search(): {n:,} x {x.shape[1]}, {queries} queries, {embedlab.__file__}")
    options: list[dict[str, object]] = [{}, {"quantize": "int8"}, {"dims": 128}]
    for opts in options:
        search(index, "w1", encoder=model, query_vector=qs[0], filters=["part=1"], **opts)  # type: ignore[arg-type]
        times = []
        for q in qs:
            t = time.thread_time()
            search(index, "w1", encoder=model, query_vector=q, filters=["part=1"], **opts)  # type: ignore[arg-type]
            times.append(time.thread_time() - t)
        print(f"filter part=1 {opts or 'exact'}: cpu p50 {np.median(times) * 1000:.2f} ms")


if __name__ == "__main__":
    threadpool_limits(1)
    main()
