"""Reranker benchmark: cross-encoders trained from MiniLM vs. the bi-encoder alone.

    .venv/bin/python benchmarks/reranker.py                       # plain and residual, 1,600 titles
    .venv/bin/python benchmarks/reranker.py --train 400 --scales 20

News title -> article (600 characters), split by ``news_split``: ``--heldout`` titles are
the queries; they search their articles among the ``--train`` training articles and
``--distractors`` more that nobody trains on. For each ``--scales`` value a reranker is
trained on the same training pairs (``RerankerConfig`` defaults otherwise: listwise loss
over 1 positive + 4 negatives mined by the bi-encoder, lr 1e-4, 1 epoch): scale 0 is a
plain cross-encoder; scale s > 0 a residual one whose score is ``logit + s * cos``. Each
rescores the bi-encoder's top 10; the baseline in the same run is the bi-encoder alone on
the same queries. Printed: nDCG@10, MRR, recall@1 and the differences.

The quality numbers do not depend on the machine's load; the timings do.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--train", type=int, default=1600, help="training titles")
    ap.add_argument("--heldout", type=int, default=400, help="held-out titles (the queries)")
    ap.add_argument("--distractors", type=int, default=1000, help="more articles searched")
    ap.add_argument("--seq", type=int, default=128, help="max_seq_length")
    ap.add_argument("--scales", default="0,20", help="prior scales to train (0 = plain)")
    ap.add_argument("--epochs", type=int, default=1)
    args = ap.parse_args()

    from embedlab.train.pairs import news_split
    from embedlab.train.reranker import RerankerConfig, train_reranker

    started = time.perf_counter()
    train, data = news_split(args.train, args.heldout, args.distractors)
    print(f"held-out: {len(data.judged_queries)} titles searching {len(data.corpus)} articles; "
          f"{len(train)} training titles")  # fmt: skip
    print(f"{'reranker':>22} {'nDCG@10 bi':>11} {'reranked':>9} {'MRR bi':>7} {'reranked':>9} "
          f"{'R@1 bi':>7} {'reranked':>9} {'examples/s':>11} {'train s':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        for scale in (float(s) for s in args.scales.split(",")):
            config = RerankerConfig(max_seq_length=args.seq, prior_scale=scale, epochs=args.epochs)
            r = train_reranker(train, Path(d) / f"rr{scale}", config, eval_dataset=data)
            b, a = r.bi_encoder, r.reranked
            assert b is not None and a is not None
            name = "plain" if scale == 0 else f"residual, scale {scale:g}"
            print(f"{name:>22} {b.ndcg10:11.3f} {a.ndcg10:9.3f} {b.metrics['MRR']:7.3f} "
                  f"{a.metrics['MRR']:9.3f} {b.metrics['recall@1']:7.3f} {a.metrics['recall@1']:9.3f} "
                  f"{r.examples_per_second:11.1f} {r.seconds:8.0f}   nDCG@10 {a.ndcg10 - b.ndcg10:+.3f}")  # fmt: skip
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
