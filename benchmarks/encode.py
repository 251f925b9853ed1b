"""Encoding speed: sentences/second of each local model on the same 2,000 mixed sentences.

The baseline is plain sentence-transformers ``SentenceTransformer.encode`` of
all-MiniLM-L6-v2 (batch size 32) in the same run; every model's speed is printed as a
ratio to it. Rounds are interleaved (baseline, model, model, ... then again) and the best
round of each is kept, so a burst of load from other processes hits all of them alike.

    .venv/bin/python benchmarks/encode.py [--n 2000] [--rounds 2] [--models minilm,minilm-int8]
    .venv/bin/python benchmarks/encode.py --profile      # where int8's time goes
    .venv/bin/python benchmarks/encode.py --models minilm-static --static-quality 500
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from embedlab.data import news_articles  # noqa: E402
from embedlab.models import is_installed, load_model  # noqa: E402
from embedlab.models.registry import find_spec  # noqa: E402

LOCAL_MODELS = (
    "minilm", "minilm-int8", "minilm-l3", "minilm-static", "glove-50d", "e5-multilingual",
)  # fmt: skip
#: minilm-static (model2vec, a token table) must embed this many times as fast as plain ST.
STATIC_TARGET = 100.0
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def benchmark_sentences(n: int = 2000, seed: int = 0) -> list[str]:
    """``n`` sentences of mixed length: 80% from news article bodies (3-100 words), 20% titles.

    Deterministic for a given ``n`` and ``seed``.
    """
    articles = news_articles(limit=600)
    body: list[str] = []
    for a in articles:
        # 3-100 words: longer "sentences" are lists or tables the splitter could not cut
        body.extend(s.strip() for s in _SENT.split(a.text) if 3 <= len(s.split()) <= 100)
    titles = [a.title for a in articles]
    rng = random.Random(seed)
    rng.shuffle(body)
    rng.shuffle(titles)
    n_short = n // 5
    out = body[: n - n_short] + titles[:n_short]
    rng.shuffle(out)
    return out


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _time_both(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def profile_int8(sentences: list[str]) -> None:
    """Split minilm-int8's time into tokenisation and graph runs, and sweep batch sizes."""
    from embedlab.models.onnx_backend import load_minilm_int8

    for threads in (1, 2):
        enc = load_minilm_int8(threads=threads)
        tok = _time(lambda enc=enc: enc.tokenizer.encode_batch(sentences))
        print(f"threads={threads}: tokenising {len(sentences)} sentences: {tok:.3f}s")
        for bs in (8, 16, 32, 64, 128):
            enc.batch_size = bs
            enc.embed(sentences[:64])
            best = min(_time(lambda enc=enc: enc.embed(sentences)) for _ in range(2))
            print(f"  batch {bs:4d}: {len(sentences) / best:7.1f} sentences/s")
        for sort in (True, False):
            ids = [e.ids for e in enc.tokenizer.encode_batch(sentences)]
            order = (
                sorted(range(len(ids)), key=lambda i: -len(ids[i]))
                if sort
                else list(range(len(ids)))
            )
            padded = 0
            for s in range(0, len(ids), 32):
                batch = [len(ids[i]) for i in order[s : s + 32]]
                padded += max(batch) * len(batch)
            real = sum(len(x) for x in ids)
            print(f"  length-sorted={sort}: {padded / real:.2f}x tokens after padding (batch 32)")


def run(n: int, rounds: int, models: list[str]) -> None:
    """Time every model on the same sentences against plain sentence-transformers."""
    sentences = benchmark_sentences(n)
    lengths = [len(s.split()) for s in sentences]
    print(
        f"{len(sentences)} sentences, words per sentence: median {statistics.median(lengths):.0f}, "
        f"max {max(lengths)}; cores visible: {os.cpu_count()}"
    )
    minilm = load_model("minilm")
    st_model = minilm.model  # type: ignore[attr-defined]
    runners: dict[str, Callable[[], object]] = {
        "plain sentence-transformers": lambda: st_model.encode(sentences, batch_size=32),
    }
    encoders = {}
    for name in models:
        spec = find_spec(name)
        if spec is None or not is_installed(spec):
            print(f"skip {name}: not installed")
            continue
        enc = load_model(name)
        encoders[name] = enc
        runners[name] = lambda enc=enc: enc.embed(sentences)
        print(f"loaded {name} in {enc.load_seconds:.2f}s")
    for enc in encoders.values():  # warm-up: first calls allocate and pick kernels
        enc.embed(sentences[:64])
    st_model.encode(sentences[:64])

    times: dict[str, list[float]] = {k: [] for k in runners}
    cpu: dict[str, list[float]] = {k: [] for k in runners}
    n_s = len(sentences)
    for r in range(rounds):
        for name, fn in runners.items():
            wall, used = _time_both(fn)
            times[name].append(wall)
            cpu[name].append(used)
            print(f"  round {r + 1}: {name:28s} {n_s / wall:8.1f} sentences/s", flush=True)

    base = min(times["plain sentence-transformers"])
    base_cpu = min(cpu["plain sentence-transformers"])
    print(
        "\nmodel                          sentences/s  vs plain ST | sentences/CPU-s  vs plain ST"
    )
    for name in runners:
        best, best_cpu = min(times[name]), min(cpu[name])
        print(
            f"{name:30s} {n_s / best:11.1f}  {base / best:9.2f}x | "
            f"{n_s / best_cpu:15.1f}  {base_cpu / best_cpu:9.2f}x"
        )
    print("(best of rounds; CPU-s: this process's CPU time over all threads, less load-sensitive)")
    if "minilm-static" in times:
        ratio = base / min(times["minilm-static"])
        verdict = "meets" if ratio >= STATIC_TARGET else "MISSES"
        print(f"minilm-static: {ratio:.0f}x plain sentence-transformers ({verdict} the "
              f"{STATIC_TARGET:.0f}x target)")  # fmt: skip

    if "minilm-int8" in encoders and "minilm" in encoders:
        a = encoders["minilm"].embed(sentences)
        b = encoders["minilm-int8"].embed(sentences)
        cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        print(
            f"\nminilm-int8 vs minilm (fp32), cosine per sentence: mean {cos.mean():.5f}, "
            f"min {cos.min():.5f}, 5th percentile {np.percentile(cos, 5):.5f}"
        )


def static_quality(articles: int, chars: int) -> None:
    """nDCG@10 of minilm-static beside its teacher on news titles -> articles (same grid)."""
    import tempfile

    from embedlab.evaluate.grid import run_grid
    from embedlab.evaluate.make import make_news_dataset

    with tempfile.TemporaryDirectory() as tmp:
        ds = make_news_dataset(f"{tmp}/news", limit=articles, chars=chars)
        grid = run_grid(ds, ["minilm-static", "minilm"], ["dense"], k=10, cache=False)
    print(f"\nnews titles -> articles ({articles} articles, first {chars} characters):")
    for row in grid.rows():
        print(
            f"  {row['model']:14s} nDCG@10 {row['nDCG@10']:.4f}  MRR {row['MRR']:.4f}  "
            f"{row['bytes_per_vector']} bytes/vector  query {row['embed_ms']:.2f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="number of sentences")
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds per model")
    parser.add_argument("--models", default=",".join(LOCAL_MODELS), help="comma-separated names")
    parser.add_argument("--profile", action="store_true", help="profile minilm-int8 only")
    parser.add_argument(
        "--static-quality", type=int, default=0, metavar="ARTICLES",
        help="also nDCG@10 of minilm-static vs minilm on this many news articles",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.profile:
        profile_int8(benchmark_sentences(args.n))
        return 0
    run(args.n, args.rounds, [m.strip() for m in args.models.split(",") if m.strip()])
    if args.static_quality:
        static_quality(args.static_quality, 600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
