"""compare_models on real models, and the probes and exercises as data."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import InputError
from embedlab.explore.analogy import analogy
from embedlab.explore.compare import compare_models, inspect_across
from embedlab.explore.probes import (
    BIAS_CAUTION,
    BIAS_PROBES,
    EXERCISES,
    SENTIMENT_PAIRS,
    exercise,
    topic_vs_sentiment,
)
from embedlab.models import Encoder, load_model
from embedlab.vectors import cosine_matrix

TEXTS = [
    "I love this movie",
    "I hate this movie",
    "The cat sat on the mat",
    "A kitten sleeps on the rug",
    "Stocks fell sharply on Monday",
    "Shares dropped steeply at the start of the week",
    "How do I reset my password?",
    "Steps to change a forgotten password",
]


@pytest.fixture(scope="module")
def int8() -> Encoder:
    """The int8 ONNX MiniLM (a dependency: failing to load it fails the test)."""
    return load_model("minilm-int8")


def _ranks(x: np.ndarray) -> np.ndarray:
    """0-based ranks of distinct values (cosines of distinct texts do not tie)."""
    assert len(np.unique(x)) == len(x)
    r = np.empty(len(x))
    r[np.argsort(x, kind="stable")] = np.arange(len(x))
    return r


def _top(sims: np.ndarray, i: int, k: int) -> set[int]:
    row = sims[i].astype(np.float64).copy()
    row[i] = -np.inf
    return set(np.argsort(-row, kind="stable")[:k].tolist())


def test_int8_agrees_with_fp32(minilm: Encoder, int8: Encoder) -> None:
    cmp = compare_models([minilm, int8], TEXTS, k=2)
    # each model's matrix is its own cosines: nothing is compared across the two spaces
    a, b = cosine_matrix(minilm.embed(TEXTS)), cosine_matrix(int8.embed(TEXTS))
    np.testing.assert_allclose(cmp.matrices["minilm"], a, atol=1e-5)
    np.testing.assert_allclose(cmp.matrices["minilm-int8"], b, atol=1e-5)
    # Spearman computed here with numpy: Pearson correlation of the upper triangles' ranks
    iu = np.triu_indices(len(TEXTS), k=1)
    expected = float(np.corrcoef(_ranks(a[iu]), _ranks(b[iu]))[0, 1])
    rho = cmp.spearman("minilm", "minilm-int8")
    assert rho == pytest.approx(expected, abs=1e-6)
    overlap = np.mean([len(_top(a, i, 2) & _top(b, i, 2)) / 2 for i in range(len(TEXTS))])
    assert cmp.pairs[0].mean_overlap == pytest.approx(overlap, abs=1e-12)
    assert rho > 0.98 and cmp.pairs[0].mean_overlap > 0.9  # int8 keeps fp32's ranking
    assert [t.overlap for t in cmp.by_text] == sorted(t.overlap for t in cmp.by_text)
    assert cmp.to_dict()["pairs"][0]["spearman"] == pytest.approx(rho)  # type: ignore[index]


def test_fp32_vs_glove_disagree_more(minilm: Encoder, glove: Encoder) -> None:
    # word-overlap traps: GloVe (a mean of word vectors) follows shared words, MiniLM meaning
    traps = ["I love my kitten", "The password is on the mat"]
    cmp = compare_models([minilm, glove], TEXTS + traps, k=1)
    assert cmp.spearman("minilm", "glove-50d") < 0.8
    assert cmp.pairs[0].mean_overlap < 1.0
    keys = [(t.overlap, t.row_spearman) for t in cmp.by_text]
    assert keys == sorted(keys)  # most disagreement first
    first = {t.text: t for t in cmp.by_text[:4]}
    assert "I love my kitten" in first
    kitten = first["I love my kitten"]
    assert TEXTS[kitten.neighbours["glove-50d"][0]] == "I love this movie"
    assert (
        "kitten" in TEXTS[kitten.neighbours["minilm"][0]]
        or "cat" in TEXTS[kitten.neighbours["minilm"][0]]
    )


def test_compare_bad_input(minilm: Encoder) -> None:
    with pytest.raises(InputError, match="two models"):
        compare_models([minilm], TEXTS)
    with pytest.raises(InputError, match="three texts"):
        compare_models([minilm, minilm], TEXTS[:2])
    stats = inspect_across([minilm, minilm], "hello there")
    assert stats[0].stats == stats[1].stats


def test_topic_beats_sentiment(minilm: Encoder) -> None:
    r = topic_vs_sentiment(minilm)
    assert r.topic_dominates
    assert r.same_topic_opposite_sentiment > r.same_sentiment_other_topic + 0.2
    assert r.share_topic_wins >= 0.75
    assert len(r.pairs) == len(SENTIMENT_PAIRS)
    assert SENTIMENT_PAIRS[0].positive == "I love this movie"


def test_bias_probes_run_on_glove(glove: Encoder) -> None:
    doctor = next(p for p in BIAS_PROBES if p.expression == "doctor - man + woman")
    assert analogy(glove, doctor.a, doctor.b, doctor.c).candidates[0][0] == "nurse"
    assert doctor.mirror.expression == "doctor - woman + man"
    for p in BIAS_PROBES:
        assert all(w in glove.index for w in (p.a, p.b, p.c))  # type: ignore[attr-defined]
    assert "trained on" in BIAS_CAUTION


def test_exercises_are_complete() -> None:
    ids = [e.id for e in EXERCISES]
    assert len(ids) == len(set(ids))
    assert {"sentiment-trap", "single-words", "cross-language", "model-comparison"} <= set(ids)
    kinds = {"similarity", "playground", "languages", "compare", "analogy"}
    for e in EXERCISES:
        assert e.kind in kinds and e.title and len(e.notice) > 40 and e.models
    assert exercise("sentiment-trap").inputs["texts"][0] == "I love this movie"
    with pytest.raises(InputError, match="sentiment-trap"):
        exercise("nope")
