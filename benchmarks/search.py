"""Search speed on 100,000 x 384 synthetic clustered vectors, against numpy brute force in
the same run, plus BM25 queries/s against bm25s directly on the news articles.

    .venv/bin/python benchmarks/search.py [--n 100000] [--queries 200] [--only matryoshka]
    .venv/bin/python benchmarks/search.py --only pipeline [--pipeline-n 20000]

``--only pipeline`` times :func:`embedlab.search.pipeline.search` (one query at a time, the
query vector given) on an in-memory index of synthetic vectors with MiniLM's fingerprint and
random-word texts, for each mode and first stage, against ``DenseIndex.search`` on the same
vectors in the same run. It uses only APIs older than the retrieval refactor, so running it
with ``PYTHONPATH=<old checkout>/src`` measures the code before it on the same machine.

Vectors: 1,000 Gaussian clusters whose per-dimension spread decays along the dimensions
(scale ~ 1/sqrt(1 + i/48)), as in embeddings trained with a Matryoshka loss or sorted by
PCA, so that a prefix of the dimensions carries most of the signal. Queries are new points
drawn from the same clusters. Recall@10 is measured against numpy brute force. Everything
runs on one thread (see the bottom of the file).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from embedlab.stores.dense import DenseIndex
from embedlab.stores.ivf import recall_at_k


def synthetic(n: int, d: int, seed: int = 0, clusters: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    scale = (1.0 / np.sqrt(1.0 + np.arange(d) / 48.0)).astype(np.float32)
    centres = rng.standard_normal((clusters, d)).astype(np.float32) * scale

    def draw(m: int) -> np.ndarray:
        noise = rng.standard_normal((m, d)).astype(np.float32) * scale * 0.6
        x = centres[rng.integers(0, clusters, m)] + noise
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return draw(n), draw(args.queries if "args" in globals() else 200)


def per_query(
    fn: Callable[[np.ndarray], np.ndarray], queries: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """p50 latency (ms), queries/s and the top-10 ids, one query at a time."""
    fn(queries[0])
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        ids = fn(q)
        times.append(time.perf_counter() - t)
        found.append(ids)
    return float(np.median(times) * 1000), float(len(queries) / sum(times)), np.vstack(found)


def paired(
    fn: Callable[[np.ndarray], np.ndarray],
    base: Callable[[np.ndarray], np.ndarray],
    queries: np.ndarray,
) -> dict[str, object]:
    """Method and baseline timed alternately on each query, so both see the same machine load.

    Both wall time and this thread's CPU time are kept: on a machine shared with other
    jobs, wall time includes waiting for the CPU, CPU time does not (everything runs on
    one thread, so CPU time is the work done). Ratios are given for both.
    """
    fn(queries[0])
    base(queries[0])
    wall: dict[str, list[float]] = {"mine": [], "base": []}
    cpu: dict[str, list[float]] = {"mine": [], "base": []}
    found = []
    for q in queries:
        for who, f in (("mine", fn), ("base", base)):
            w, c = time.perf_counter(), time.thread_time()
            ids = f(q)
            cpu[who].append(time.thread_time() - c)
            wall[who].append(time.perf_counter() - w)
            if who == "mine":
                found.append(ids)
    return {
        "wall_p50": float(np.median(wall["mine"]) * 1000),
        "cpu_p50": float(np.median(cpu["mine"]) * 1000),
        "base_wall_p50": float(np.median(wall["base"]) * 1000),
        "base_cpu_p50": float(np.median(cpu["base"]) * 1000),
        "qps_cpu": len(queries) / sum(cpu["mine"]),
        "qps_ratio_cpu": sum(cpu["base"]) / sum(cpu["mine"]),
        "qps_ratio_wall": sum(wall["base"]) / sum(wall["mine"]),
        "ids": np.vstack(found),
    }


def brute(x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    def fn(q: np.ndarray) -> np.ndarray:
        s = x @ q
        part = np.argpartition(-s, 10)[:10]
        return part[np.argsort(-s[part])]

    return fn


def dense_runs(n: int, d: int, queries: int, only: str | None = None) -> None:
    x, qs = synthetic(n, d)
    qs = qs[:queries]
    print(f"== dense: {n:,} x {d} vectors, {len(qs)} single queries ==")
    base_p50, base_qps, truth = per_query(brute(x), qs)
    print(f"numpy brute force (baseline): wall p50 {base_p50:.2f} ms, {base_qps:.0f} q/s")
    index = DenseIndex(x)
    t = time.perf_counter()
    if only != "matryoshka":
        index.ann_index()
    build = time.perf_counter() - t
    rows = [
        ("exact (DenseIndex)", {"exact": True}, None),
        (f"ANN IVF (build {build:.1f} s)", {"exact": False}, 0.95),
        ("Matryoshka 128 + rescore", {"dims": 128}, 0.99),
        ("int8 + rescore", {"quantize": "int8"}, 0.95),
        ("binary + rescore", {"quantize": "binary"}, 0.95),
        ("Matryoshka 128 + int8", {"dims": 128, "quantize": "int8"}, 0.95),
    ]
    if only == "matryoshka":
        rows = [r for r in rows if r[0].startswith("Matryoshka")]
    for name, options, target in rows:

        def fn(q: np.ndarray, o: dict[str, object] = options) -> np.ndarray:
            return index.search(q, 10, **o).ids[0]  # type: ignore[arg-type]

        r = paired(fn, brute(x), qs)
        rec = recall_at_k(r["ids"], truth)  # type: ignore[arg-type]
        ok = "" if target is None else ("  ok" if rec >= target else f"  BELOW {target}")
        print(
            f"{name:<26} cpu p50 {r['cpu_p50']:6.2f} ms (brute {r['base_cpu_p50']:6.2f})"
            f"  x{r['base_cpu_p50'] / r['cpu_p50']:5.1f} p50  x{r['qps_ratio_cpu']:5.1f} QPS"
            f"  | wall p50 {r['wall_p50']:6.2f} ms (brute {r['base_wall_p50']:6.2f})"
            f"  x{r['qps_ratio_wall']:5.1f} QPS  | recall@10 {rec:.3f}{ok}"
        )
    if only != "matryoshka":
        ivf = index.ann_index()
        print(f"(IVF nlist {ivf.nlist}, tuned nprobe {ivf.nprobe})")


def threshold_runs(d: int) -> None:
    print("== exact search p50 by collection size (picks ANN_THRESHOLD) ==")
    for n in (10_000, 20_000, 50_000, 100_000):
        x, qs = synthetic(n, d, seed=n)
        index = DenseIndex(x)
        p50, _, _ = per_query(lambda q, i=index: i.exact(q, 10).ids[0], qs[:100])
        t = time.perf_counter()
        index.ann_index()
        build = time.perf_counter() - t
        a50, _, _ = per_query(lambda q, i=index: i.ann(q, 10).ids[0], qs[:100])
        print(f"n={n:>7,}: exact p50 {p50:6.2f} ms, IVF p50 {a50:5.2f} ms (build {build:4.1f} s)")


def pipeline_runs(n: int, d: int, queries: int) -> None:
    """search() per query (CPU time, one thread) for each mode, vs DenseIndex.search."""
    import embedlab
    from embedlab.models import load_model
    from embedlab.search.memory import MemoryIndex
    from embedlab.search.pipeline import search
    from embedlab.stores.base import Chunk

    minilm = load_model("minilm")
    x, qs = synthetic(n, minilm.info.dims, seed=7)
    qs = qs[:queries]
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(3000)]
    texts = [" ".join(rng.choice(vocab, 30)) for _ in range(n)]
    qtexts = [" ".join(rng.choice(vocab, 4)) for _ in range(len(qs))]
    chunks = [Chunk(id=i, doc_id=i, text=t, source="s", position={}) for i, t in enumerate(texts)]
    index = MemoryIndex("bench", chunks, x, minilm.info.to_dict())
    print(f"== search() pipeline: {n:,} x {x.shape[1]}, {len(qs)} queries, {embedlab.__file__} ==")
    direct = DenseIndex(x)
    rows: list[tuple[str, dict[str, object]]] = [
        ("dense exact", {"mode": "dense"}),
        ("dense dims 128", {"mode": "dense", "dims": 128}),
        ("dense int8", {"mode": "dense", "quantize": "int8"}),
        ("dense binary", {"mode": "dense", "quantize": "binary"}),
        ("bm25", {"mode": "bm25"}),
        ("hybrid", {"mode": "hybrid"}),
    ]
    for name, options in rows:
        pos = {"i": 0}

        def fn(
            q: np.ndarray, o: dict[str, object] = options, p: dict[str, int] = pos
        ) -> np.ndarray:
            text = qtexts[p["i"] % len(qtexts)]
            p["i"] += 1
            hits = search(index, text, encoder=minilm, query_vector=q, k=10, **o).hits  # type: ignore[arg-type]
            return np.array([h.chunk.id for h in hits][:10] + [-1] * (10 - len(hits)))

        def base(q: np.ndarray) -> np.ndarray:
            return direct.search(q, 10, exact=True).ids[0]

        r = paired(fn, base, qs)
        print(
            f"{name:<16} cpu p50 {r['cpu_p50']:7.3f} ms (DenseIndex exact {r['base_cpu_p50']:6.3f})"
            f"  | wall p50 {r['wall_p50']:7.3f} ms"
        )


def bm25_runs(queries: int) -> None:
    import bm25s

    from embedlab.data import news_articles
    from embedlab.stores.keyword import BM25Index, tokenize

    arts = news_articles()
    texts = [a.text for a in arts]
    qs = [a.title for a in arts[:queries]]
    print(f"== BM25: {len(texts):,} news articles, {len(qs)} title queries ==")
    t = time.perf_counter()
    ours = BM25Index(texts)
    ours_build = time.perf_counter() - t
    t = time.perf_counter()
    ref = bm25s.BM25(method="robertson")
    ref.index([tokenize(x) for x in texts], show_progress=False)
    ref_build = time.perf_counter() - t
    t = time.perf_counter()
    for q in qs:
        ours.search(q, 10)
    ours_qps = len(qs) / (time.perf_counter() - t)
    t = time.perf_counter()
    for q in qs:
        ref.retrieve([tokenize(q)], k=10, show_progress=False, n_threads=1)
    ref_qps = len(qs) / (time.perf_counter() - t)
    print(f"bm25s directly      build {ref_build:5.2f} s  {ref_qps:7.0f} q/s (baseline)")
    print(
        f"embedlab BM25Index  build {ours_build:5.2f} s  {ours_qps:7.0f} q/s  x{ours_qps / ref_qps:.2f}"
    )


if __name__ == "__main__":
    import faiss
    from threadpoolctl import threadpool_limits

    # One thread everywhere (numpy's BLAS, FAISS' OpenMP, numba): single-query latency on
    # one core, the same for the baseline and every method, and no oversubscription of a
    # machine shared with other jobs.
    faiss.omp_set_num_threads(1)
    threadpool_limits(1)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-threshold", action="store_true")
    parser.add_argument(
        "--only",
        choices=["matryoshka", "pipeline"],
        help="only the dense Matryoshka rows (no ANN build), or only search() per mode",
    )
    parser.add_argument("--pipeline-n", type=int, default=20_000)
    args = parser.parse_args()
    if args.only == "pipeline":
        pipeline_runs(args.pipeline_n, args.dims, args.queries)
        raise SystemExit(0)
    dense_runs(args.n, args.dims, args.queries, args.only)
    if args.only:
        raise SystemExit(0)
    bm25_runs(args.queries)
    if not args.skip_threshold:
        threshold_runs(args.dims)
