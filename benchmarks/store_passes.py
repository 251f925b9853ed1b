"""Cold and warm passes over an embedded index's IVF (issue 17): the same random queries run
twice, unfiltered then filtered (``part=3``: 10 % of the rows), through ``index.search`` and
through the same FAISS index called directly with the same selector, one thread.

On a machine whose page cache does not hold the index's files, the first pass reads the
memory-mapped IVF lists from disk on first touch; the second pass shows the query cost
with them resident. The index is made as ``benchmarks/store.py`` makes it (synthetic
384-d vectors, the writer's ANN step) unless it exists under ``--home``.

    .venv/bin/python benchmarks/store_passes.py --rows 5000000 --home /tmp/passes
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np


def _pass(label: str, fn, queries: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    for q in queries:
        fn(q[None])
    ms = (time.perf_counter() - t) / len(queries) * 1e3
    print(f"  {label}: {ms:.3f} ms a query")
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--home", required=True, help="where the index is (or is made)")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    os.environ["EMBEDLAB_HOME"] = args.home
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import faiss
    from benchmarks.store import make_index
    from threadpoolctl import threadpool_limits

    from embedlab.stores import open_index
    from embedlab.stores.cache import refresh_ann
    from embedlab.stores.embedded import exists
    from embedlab.stores.filters import Eq
    from embedlab.stores.local import local_queries

    name = f"passes{args.rows}"
    if not exists(name):
        make_index(name, args.rows)
        print(f"made {name}; the writer's ANN step: {refresh_ann(open_index(name))}")
    threadpool_limits(1)
    index = open_index(name)
    flt = Eq("part", "3")
    qs = np.random.default_rng(0).standard_normal((args.queries, 384)).astype(np.float32)
    index.search(qs[:1], 10, filter=flt)  # opens the IVF, SQLite selects the filter's rows
    lq = local_queries(index)
    dense = lq.dense_index()
    ann = dense.ann_index()
    sel, _bits = dense._selector(lq.rows(flt))
    filtered = faiss.SearchParametersIVF()
    filtered.sel = sel
    filtered.nprobe = int(min(ann.nlist, ann.nprobe * 10))
    qn = qs / np.linalg.norm(qs, axis=1, keepdims=True)
    print(f"{args.rows:,} rows, nprobe {ann.nprobe} (filtered {filtered.nprobe}) of {ann.nlist}")
    for label in ("first pass", "second pass"):
        print(label)
        u = _pass("index.search, unfiltered", lambda q: index.search(q, 10), qs)
        f = _pass("index.search, filtered", lambda q: index.search(q, 10, filter=flt), qs)
        _pass("FAISS direct, unfiltered", lambda q: ann.search(q, 10), qn)
        _pass("FAISS direct, filtered", lambda q: ann.search(q, 10, params=filtered), qn)
        print(f"  filtered / unfiltered through index.search: {f / u:.2f}x")


if __name__ == "__main__":
    main()
