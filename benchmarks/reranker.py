"""Reranker benchmark: a cross-encoder trained from MiniLM vs. the bi-encoder alone.

    .venv/bin/python benchmarks/reranker.py                      # 2,000 news pairs, defaults (~15 min)
    .venv/bin/python benchmarks/reranker.py --pairs 600 --loss bce --epochs 1

News title -> article (600 characters). ``split_pairs`` holds out 20% of the pairs: their
titles are the queries and their articles were never trained on; the search runs over all
articles (the training ones are distractors). The reranker (``RerankerConfig`` defaults:
listwise softmax loss over 1 positive + 4 negatives, 3 dense-mined from ranks 1-20 and 1
random, lr 1e-4, warm-up 10%, 1 epoch) rescores the bi-encoder's top k; the baseline in
the same run is the bi-encoder alone on the same queries. Printed: nDCG@10, MRR and
recall@10 for k = 5, 10 (the default) and 20, and the differences.

The machine is shared: timings are noisy; the quality numbers do not depend on load.
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
    ap.add_argument("--pairs", type=int, default=2000, help="news title -> article pairs")
    ap.add_argument("--seq", type=int, default=128, help="max_seq_length")
    ap.add_argument("--loss", default="listwise", help="listwise or bce")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1e-4)
    args = ap.parse_args()

    from sentence_transformers import CrossEncoder

    from embedlab.train.embedder import load_bi_encoder
    from embedlab.train.pairs import heldout_dataset, news_pairs, split_pairs
    from embedlab.train.reranker import RerankerConfig, _scorer, train_reranker
    from embedlab.train.retrieval_eval import evaluate_reranked

    started = time.perf_counter()
    pairs = news_pairs(args.pairs, max_chars=600)
    config = RerankerConfig(max_seq_length=args.seq, loss=args.loss, epochs=args.epochs, lr=args.lr)
    with tempfile.TemporaryDirectory() as d:
        r = train_reranker(pairs, Path(d) / "rr", config)
        train, held = split_pairs(pairs, config.heldout, config.seed)
        print(f"reranker: {config}")
        print(f"{r.train_examples} (anchor, passage) examples, {r.steps} steps, "
              f"{r.seconds:.0f} s, {r.examples_per_second:.1f} examples/s on {r.device}")  # fmt: skip
        print(f"held-out: {len(held)} titles searching {len(pairs)} articles")
        bi, name = load_bi_encoder(config.base)
        model = CrossEncoder(r.out, device=r.device)
        data = heldout_dataset(held, [p.positive for p in train])
        print(f"{'top k':>5} {'nDCG@10 bi':>11} {'reranked':>9} {'MRR bi':>7} {'reranked':>9} "
              f"{'R@10 bi':>8} {'reranked':>9}")  # fmt: skip
        for k in (5, 10, 20):
            b, a = evaluate_reranked(bi, _scorer(model), data, name, k)
            print(f"{k:5d} {b.ndcg10:11.3f} {a.ndcg10:9.3f} {b.metrics['MRR']:7.3f} "
                  f"{a.metrics['MRR']:9.3f} {b.recall10:8.3f} {a.recall10:9.3f}   "
                  f"nDCG@10 {a.ndcg10 - b.ndcg10:+.3f}")  # fmt: skip
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
