"""Training benchmark: word2vec engines (speed and quality gap), contrastive fine-tuning, reranker.

    .venv/bin/python benchmarks/train.py                 # word2vec both engines + fine-tuning
    .venv/bin/python benchmarks/train.py --pairs 800 --reranker

- word2vec: gensim vs the numpy ``explain`` engine on the same corpus and settings (Lee
  background corpus, skip-gram, dim 50, window 5, 5 negatives, min-count 2, 20 epochs):
  words/s (words after subsampling, as gensim counts them), analogy accuracy and
  WordSim-353 Spearman from the shared evaluation code, and the ratios explain/gensim.
- fine-tuning: MiniLM on news title -> article pairs (InfoNCE with dense-mined hard
  negatives, Matryoshka 384/128/64), examples/s, and recall@10 / nDCG@10 / MRR before and
  after, per dim, for 200 held-out titles searching the training articles and 1,000 more
  (``news_split``).
- ``--reranker``: a cross-encoder trained from MiniLM (``RerankerConfig`` defaults), and
  nDCG@10 of the bi-encoder alone vs. reranked on the same held-out split; the focused
  ``benchmarks/reranker.py`` trains it on more pairs (the recorded numbers).

The machine is shared: timings are noisy; the ratios within one run are the numbers to read.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def word2vec_rows(epochs: int, tmp: Path) -> None:
    from embedlab.data import gensim_test_file
    from embedlab.train import Word2VecConfig, train_word2vec

    corpus = gensim_test_file("lee_background.cor")
    rows = {}
    for engine in ("gensim", "explain"):
        config = Word2VecConfig(engine=engine, dim=50, epochs=epochs, min_count=2, seed=2)
        r = train_word2vec(corpus, tmp / engine, config)
        assert r.evaluation is not None
        rows[engine] = (r.words_per_second, r.evaluation.analogy_accuracy, r.evaluation.wordsim_spearman,
                        r.evaluation.analogies.sections[-1].total)  # fmt: skip
    print(f"word2vec on lee_background.cor (skipgram, dim 50, {epochs} epochs, min-count 2)")
    print(f"{'engine':8} {'words/s':>10} {'analogy acc':>12} {'WordSim rho':>12}")
    for engine, (wps, acc, rho, n) in rows.items():
        print(
            f"{engine:8} {wps:10,.0f} {acc:12.4f} {rho:12.3f}   ({n} analogy questions in vocabulary)"
        )
    g, e = rows["gensim"], rows["explain"]
    print(
        f"explain/gensim: speed {e[0] / g[0]:.3f}x, analogy {e[1] - g[1]:+.4f}, WordSim {e[2] - g[2]:+.3f}"
    )


def finetune_rows(n_pairs: int, seq: int, tmp: Path, reranker: bool) -> None:
    from embedlab.train.embedder import EmbedderConfig, train_embedder
    from embedlab.train.pairs import news_split
    from embedlab.train.reranker import RerankerConfig, train_reranker

    pairs, data = news_split(n_pairs, 200, 1000)
    config = EmbedderConfig(
        matryoshka=(384, 128, 64), max_seq_length=seq, lr=5e-5, hard_negatives="dense"
    )
    r = train_embedder(pairs, tmp / "embedder", config, eval_dataset=data)
    print(f"\nfine-tuning MiniLM on {r.train_pairs} news pairs + dense-mined hard negatives "
          f"(seq {seq}, batch 32, 1 epoch, {r.device}): {r.examples_per_second:.1f} examples/s, "
          f"{r.seconds:.0f} s")  # fmt: skip
    print(f"held-out: {r.heldout_pairs} titles searching {len(data.corpus)} articles")
    print(f"{'dims':>5} {'recall@10 before':>17} {'after':>7} {'nDCG@10 before':>15} {'after':>7} "
          f"{'MRR before':>11} {'after':>7}")  # fmt: skip
    for b, a in zip(r.before, r.after, strict=True):
        print(f"{b.dims:5d} {b.recall10:17.3f} {a.recall10:7.3f} {b.ndcg10:15.3f} {a.ndcg10:7.3f} "
              f"{b.metrics['MRR']:11.3f} {a.metrics['MRR']:7.3f}")  # fmt: skip
    if reranker:
        config_rr = RerankerConfig(max_seq_length=seq)
        rr = train_reranker(pairs, tmp / "reranker", config_rr, eval_dataset=data)
        assert rr.bi_encoder and rr.reranked
        print(f"\nreranker: {rr.train_examples} examples, {rr.examples_per_second:.1f} examples/s")
        for s in (rr.bi_encoder, rr.reranked):
            print(
                f"{s.model:40} recall@10 {s.recall10:.3f} nDCG@10 {s.ndcg10:.3f} MRR {s.metrics['MRR']:.3f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--epochs", type=int, default=20, help="word2vec epochs")
    ap.add_argument(
        "--pairs", type=int, default=1000, help="news pairs for fine-tuning (0 to skip)"
    )
    ap.add_argument("--seq", type=int, default=128, help="max_seq_length for fine-tuning")
    ap.add_argument("--reranker", action="store_true", help="also train and measure a reranker")
    args = ap.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        word2vec_rows(args.epochs, Path(d))
        if args.pairs:
            finetune_rows(args.pairs, args.seq, Path(d), args.reranker)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
