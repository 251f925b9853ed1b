"""The retrieval grid on the news articles: one grid run (each model embeds the corpus once,
cached) against running every configuration on its own (re-embedding corpus and queries each
time, as a loop of separate evaluation scripts would).

    .venv/bin/python benchmarks/eval.py [--articles 200] [--chars 600] [--model minilm]
        [--dims 384,128,64] [--quantize none,binary]

Both runs use a fresh embedding cache folder, so the grid pays for embedding once, as a
first run does. Prints the grid's table, both wall times and their ratio, and checks that both
give the same metrics.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

MODES = ["dense", "bm25", "hybrid"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--chars", type=int, default=600)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--dims", default="384,128,64")
    parser.add_argument("--quantize", default="none,binary")
    args = parser.parse_args()
    dims = [int(d) for d in args.dims.split(",")]
    quantize = args.quantize.split(",")
    os.environ["EMBEDLAB_HOME"] = tempfile.mkdtemp(prefix="embedlab-bench-")
    warnings.simplefilter("ignore")

    from embedlab.evaluate.grid import expand_grid, run_grid
    from embedlab.evaluate.make import make_news_dataset
    from embedlab.models import load_model

    encoder = load_model(args.model)
    ds = make_news_dataset(
        os.path.join(os.environ["EMBEDLAB_HOME"], "news"), limit=args.articles, chars=args.chars
    )
    configs = expand_grid([(encoder.info.name, encoder.info.dims)], MODES, dims, quantize)
    print(
        f"{len(ds.corpus)} articles (first {args.chars} chars), {len(ds.qrels)} title queries, "
        f"{len(configs)} configurations, model {encoder.info.name}"
    )

    start, cpu = time.perf_counter(), time.process_time()
    grid = run_grid(ds, [encoder], MODES, dims, quantize, k=10, cache=True)
    grid_s, grid_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"grid (embeds once): {grid_s:.1f} s wall, {grid_cpu:.1f} s CPU")
    for r in grid.rows():
        print(
            f"  {r['config']:<28} nDCG@10 {r['nDCG@10']:.4f}  MRR {r['MRR']:.4f}  "
            f"recall@10 {r['recall@10']:.4f}  {r['bytes_per_vector'] or '-':>5} B/vec  "
            f"search {r['search_ms']:.3f} ms"
        )

    start, cpu = time.perf_counter(), time.process_time()
    same = True
    for c in configs:
        modes = [c.mode]
        dims = [c.dims] if c.dims else None
        quant = [c.quantize or "none"]
        one = run_grid(ds, [encoder], modes, dims, quant, k=10, cache=False)
        mine = next(r for r in grid.results if r.config == c)
        same &= abs(one.results[0].metrics.mean["nDCG@10"] - mine.metrics.mean["nDCG@10"]) < 1e-9
    alone_s, alone_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"each configuration on its own (re-embedding each time): {alone_s:.1f} s wall, "
        f"{alone_cpu:.1f} s CPU"
    )
    print(
        f"ratio: {alone_s / grid_s:.1f}x (wall), {alone_cpu / grid_cpu:.1f}x (CPU) faster as "
        f"one grid; same metrics: {same}"
    )


if __name__ == "__main__":
    main()
