"""Analogies: formulas, gensim equality on GloVe, sentence models."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedlab.errors import InputError
from embedlab.explore.analogy import (
    DEFAULT_CANDIDATES,
    analogy,
    analogy_arrays,
    cos_add,
    cos_mul,
    rank_candidates,
)
from embedlab.models import Encoder
from embedlab.vectors import normalize

QUERIES = [
    ("king", "man", "woman"),
    ("paris", "france", "italy"),
    ("walked", "walk", "swim"),
    ("bigger", "big", "small"),
    ("doctor", "man", "woman"),
]


def test_objectives_match_their_formulas() -> None:
    rng = np.random.default_rng(1)
    unit = normalize(rng.normal(size=(20, 8)))
    a, b, c = normalize(rng.normal(size=(3, 8)))
    t = a - b + c
    np.testing.assert_allclose(cos_add(unit, a, b, c), unit @ (t / np.linalg.norm(t)), atol=1e-6)
    ca, cb, cc = unit @ a, unit @ b, unit @ c
    want = ((1 + ca) / 2) * ((1 + cc) / 2) / ((1 + cb) / 2 + 1e-6)
    np.testing.assert_allclose(cos_mul(unit, a, b, c), want, rtol=1e-6)


def test_rank_candidates_excludes_and_ranks() -> None:
    scores = np.array([0.9, 0.5, 0.8, 0.8, 0.1])
    r = rank_candidates(scores, k=3, excluded=[0], expected=3)
    assert r.order == [2, 3, 1]  # 0 left out; the tie goes to the lower index
    assert r.expected_rank == 1 and r.expected_score == pytest.approx(0.8)  # 2 ties, none higher
    assert rank_candidates(scores, k=2, excluded=[0], expected=0).expected_rank is None


def test_king_man_woman_gives_queen(glove: Encoder) -> None:
    r = analogy(glove, "king", "man", "woman", expected="queen")
    assert r.candidates[0][0] == "queen" and r.candidates[0][1] == pytest.approx(0.852, abs=1e-3)
    assert r.expected_rank == 1 and r.searched == 400_000
    assert set(r.excluded) == {"king", "man", "woman"}
    assert all(w not in r.excluded for w, _ in r.candidates)
    kept = analogy(glove, "King", "man", "woman", exclude_inputs=False, expected="queen")
    assert kept.candidates[0][0] == "king" and kept.expected_rank == 2


@pytest.fixture(scope="module")
def gensim_50k(glove: Encoder) -> KeyedVectors:
    n = 50_000
    kv = KeyedVectors(vector_size=glove.matrix.shape[1])  # type: ignore[attr-defined]
    kv.add_vectors(glove.words[:n], glove.matrix[:n])  # type: ignore[attr-defined]
    return kv


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_top10_equals_gensim(glove: Encoder, gensim_50k: KeyedVectors, method: str) -> None:
    ref = gensim_50k.most_similar if method == "3cosadd" else gensim_50k.most_similar_cosmul
    for a, b, c in QUERIES:
        ours = analogy(glove, a, b, c, k=10, method=method, restrict_vocab=50_000)
        theirs = ref(positive=[a, c], negative=[b], topn=10)
        assert [w for w, _ in ours.candidates] == [w for w, _ in theirs], (a, b, c)
        np.testing.assert_allclose(
            [s for _, s in ours.candidates], [s for _, s in theirs], atol=1e-5
        )


def test_core_over_plain_arrays_equals_gensim(glove: Encoder, gensim_50k: KeyedVectors) -> None:
    words = glove.words[:50_000]  # type: ignore[attr-defined]
    unit = normalize(glove.matrix[:50_000])  # type: ignore[attr-defined]
    ids = [glove.index[w] for w in ("paris", "france", "germany")]  # type: ignore[attr-defined]
    top, _ = analogy_arrays(words, unit, *unit[ids], k=5, excluded=ids)
    theirs = gensim_50k.most_similar(positive=["paris", "germany"], negative=["france"], topn=5)
    assert [w for w, _ in top] == [w for w, _ in theirs]


def test_expected_rank_and_bad_input(glove: Encoder) -> None:
    r = analogy(glove, "paris", "france", "italy", method="3cosmul", expected="milan", k=3)
    assert r.expected_rank is not None and r.expected_rank > 1
    assert r.expected_score is not None
    far = analogy(glove, "king", "man", "woman", restrict_vocab=1000, expected="zyzzyva")
    assert far.expected_rank is None and "not among" in far.note and far.searched == 1000
    with pytest.raises(InputError, match="not in the vocabulary"):
        analogy(glove, "king", "man", "qqxxzz")
    with pytest.raises(InputError, match="3cosadd"):
        analogy(glove, "king", "man", "woman", method="3cosfoo")


def test_sentence_model_over_candidates(minilm: Encoder) -> None:
    r = analogy(minilm, "king", "man", "woman", expected="queen")
    assert r.expected_rank is not None and r.expected_rank <= 3
    assert "king" not in [t for t, _ in r.candidates]
    extra = analogy(minilm, "king", "man", "woman", expected="duchess")  # default list + 1
    assert extra.searched == len(DEFAULT_CANDIDATES) + 1 and extra.expected_rank is not None
    assert extra.candidates == r.candidates  # the cached default vectors give the same answers
    mine = analogy(minilm, "Paris", "France", "Italy", candidates=["Rome", "Berlin", "pizza"])
    assert mine.searched == 3 and mine.candidates[0][0] == "Rome"
    added = analogy(minilm, "king", "man", "woman", candidates=["duke", "car"], expected="queen")
    assert added.searched == 3 and added.expected_rank is not None and "added" in added.note


def test_any_word_table_works(glove: Encoder, gensim_50k: KeyedVectors) -> None:
    """A table with only .words/.index/.matrix (a trained word2vec, say) is searched alike."""
    from types import SimpleNamespace

    from embedlab.models.glove import WordVectors

    words, matrix = glove.words[:50_000], glove.matrix[:50_000]  # type: ignore[attr-defined]
    table = WordVectors.from_arrays("glove-50k", words, matrix)
    bare = SimpleNamespace(
        words=words, index={w: i for i, w in enumerate(words)}, matrix=matrix, info=table.info
    )
    theirs = gensim_50k.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=5)
    for model in (table, bare):
        ours = analogy(model, "king", "man", "woman", k=5, method="3cosmul")  # type: ignore[arg-type]
        assert [w for w, _ in ours.candidates] == [w for w, _ in theirs]
        assert ours.searched == 50_000
