"""Ingestion throughput against the raw encoder, on real news articles.

Run: ``.venv/bin/python benchmarks/ingest.py [--articles 60] [--rounds 2]``

Both sides embed the same chunk texts with the same model in batches of the same size:
*raw* is ``encoder.embed`` alone; *ingest* is ``create_index`` on the article files
(discover, probe, hash, read, tokenize and chunk, embed, write segments, commit to SQLite).
Rounds alternate raw and ingest (ABBA) so a drift in the load of a shared machine hits
both alike; throughput is given per wall second and per CPU second of this process.
Target: ingest throughput >= 85% of raw.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", default="minilm")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["EMBEDLAB_HOME"] = str(Path(tmp) / "home")
        from embedlab.data import news_articles
        from embedlab.models import load_model
        from embedlab.stores import create_index, drop_index
        from embedlab.stores.chunking import Chunker, ChunkSettings
        from embedlab.stores.writer import EMBED_BATCH

        encoder = load_model(args.model)
        folder = Path(tmp) / "articles"
        folder.mkdir()
        for i, a in enumerate(news_articles(limit=args.articles)):
            (folder / f"{i:05d}.md").write_text(f"# {a.title}\n\n{a.text}\n", encoding="utf-8")
        chunker = Chunker(encoder, ChunkSettings())
        texts = [p.text for f in sorted(folder.iterdir()) for p in chunker.chunks(f.read_text())]
        n = len(texts)
        encoder.embed(texts[:8])  # warm up
        print(f"{args.articles} articles -> {n} chunks of <= 256 tokens, model {args.model}")

        raw, ingest, shares, raw_cpu, ingest_cpu = [], [], [], [], []

        def run_raw() -> None:
            w0, c0 = time.perf_counter(), time.process_time()
            for s in range(0, n, EMBED_BATCH):
                encoder.embed(texts[s : s + EMBED_BATCH])
            raw.append(n / (time.perf_counter() - w0))
            raw_cpu.append(n / (time.process_time() - c0))
            print(f"  raw    {raw[-1]:.1f} chunks/s wall, {raw_cpu[-1]:.1f} per CPU-second")

        def run_ingest(r: int) -> None:
            w0, c0 = time.perf_counter(), time.process_time()
            index = create_index(f"bench{r}", [folder], encoder)
            ingest.append(len(index) / (time.perf_counter() - w0))
            ingest_cpu.append(len(index) / (time.process_time() - c0))
            assert len(index) == n, (len(index), n)
            rep = index.report
            shares.append(rep.embed_seconds / rep.seconds)
            print(
                f"  ingest {ingest[-1]:.1f} chunks/s wall, {ingest_cpu[-1]:.1f} per CPU-second "
                f"(non-embedding work {rep.seconds - rep.embed_seconds:.2f} s of {rep.seconds:.1f} s)"
            )
            drop_index(f"bench{r}")

        for r in range(args.rounds):  # ABBA order cancels a drift in the machine's load
            print(f"round {r + 1}")
            if r % 2 == 0:
                run_raw()
                run_ingest(r)
            else:
                run_ingest(r)
                run_raw()
        raw_m, ingest_m = statistics.median(raw), statistics.median(ingest)
        ratio = ingest_m / raw_m
        print(f"median raw encoder: {raw_m:.1f} chunks/s")
        print(f"median ingestion:   {ingest_m:.1f} chunks/s")
        cpu_ratio = statistics.median(ingest_cpu) / statistics.median(raw_cpu)
        print(f"ingestion / raw = {ratio:.2f} per wall second, {cpu_ratio:.2f} per CPU second")
        print(f"target >= 0.85 (wall): {'PASS' if ratio >= 0.85 else 'FAIL'}")
        print(
            f"share of ingestion time spent in the encoder: {statistics.median(shares):.3f} "
            "(the load-independent bound on ingestion / raw)"
        )


if __name__ == "__main__":
    main()
