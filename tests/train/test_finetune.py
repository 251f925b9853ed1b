"""A short contrastive fine-tune of MiniLM on news title -> article pairs, and a reranker.

Kept small for the test budget (200 pairs, 48 tokens, one epoch of 5 steps, Matryoshka
384 + 64, all measured by the shared ``evaluate_run`` on a held-out split that searches
all 200 articles); ``benchmarks/train.py`` runs the same at a useful size. On the shared
2-core machine at load ~20 this file took minutes of wall time for ~2 minutes of CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedlab.models import load_model
from embedlab.models.rerankers import load_reranker
from embedlab.train.embedder import EmbedderConfig, EmbedderResult, train_embedder
from embedlab.train.pairs import Pair, news_pairs
from embedlab.train.reranker import RerankerConfig, train_reranker


@pytest.fixture(scope="module")
def pairs() -> list[Pair]:
    return news_pairs(200, max_chars=300)


@pytest.fixture(scope="module")
def finetuned(pairs: list[Pair], tmp_path_factory: pytest.TempPathFactory) -> EmbedderResult:
    out = tmp_path_factory.mktemp("embedder") / "model"
    config = EmbedderConfig(matryoshka=(384, 64), max_seq_length=48, batch=32, lr=1e-4)
    return train_embedder(pairs, out, config)


def test_finetune_keeps_full_dims_and_loads_in_the_lab(
    finetuned: EmbedderResult, minilm: object
) -> None:
    """At 384 dims the base is near the ceiling on 40 queries (recall@10 ~0.97): five steps
    must not hurt it (the gain at full dims is measured by benchmarks/train.py)."""
    before, after = finetuned.before[0], finetuned.after[0]
    assert before.dims == after.dims == 384
    assert finetuned.heldout_pairs == 40 and finetuned.steps == 5
    assert after.recall10 >= before.recall10 - 0.025  # at most one query of 40
    assert after.ndcg10 >= before.ndcg10 - 0.02
    model = load_model(f"st:{finetuned.out}")
    assert model.info.dims == 384
    assert model.info.fingerprint != minilm.info.fingerprint  # type: ignore[attr-defined]


def test_matryoshka_keeps_more_at_64_dims(finetuned: EmbedderResult) -> None:
    base64 = next(s for s in finetuned.before if s.dims == 64)  # base model cut to 64
    tuned64 = next(s for s in finetuned.after if s.dims == 64)
    assert tuned64.ndcg10 > base64.ndcg10
    assert tuned64.recall10 >= base64.recall10


def test_reranker_trains_saves_and_loads(pairs: list[Pair], tmp_path: Path) -> None:
    """Mechanics only (mining, groups of 1 positive + 2 negatives, saving, loading by path):
    whether it beats the bi-encoder needs minutes of training, measured by
    benchmarks/reranker.py (docs/benchmarks.md, ## Training)."""
    config = RerankerConfig(max_seq_length=32, negatives_per_pair=2, random_negatives=1, batch=6)
    r = train_reranker(pairs[:40], tmp_path / "rr", config, evaluate=False)
    assert r.mined and all(m.negative != m.positive for m in r.mined)
    assert r.train_examples == 32 * 3 and r.steps == 16  # 32 groups of 3, 2 groups a step
    assert all(np.isfinite(loss) for _, loss in r.loss_curve)
    reranker = load_reranker(str(tmp_path / "rr"))
    scores = reranker.score(pairs[0].anchor, [pairs[0].positive, pairs[30].positive])
    assert scores.shape == (2,) and np.isfinite(scores).all()
