"""BM25 against rank_bm25 on real text, its persistence, and reciprocal rank fusion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from embedlab.data import news_articles
from embedlab.errors import EmptyInputError, InputError
from embedlab.search.fusion import rrf
from embedlab.stores.keyword import BM25Index, tokenize


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return [a.text for a in news_articles(limit=300)]


def test_tokenize_is_documented_rule() -> None:
    assert tokenize("The Café's 2 NEW cafés, a X-ray!") == ["café", "new", "cafés", "ray"]


def test_bm25_equals_rank_bm25(corpus: list[str]) -> None:
    ours = BM25Index(corpus)
    ref = BM25Okapi([tokenize(t) for t in corpus])
    titles = [a.title for a in news_articles(limit=300)][:40]
    queries = [*titles, "the government said the government", "market market growth", "zzzz"]
    for q in queries:
        a, b = ours.get_scores(q), ref.get_scores(tokenize(q))
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-6)
        ranking_ref = np.lexsort((np.arange(len(b)), -b))[:10]
        hits = ours.search(q, 10)
        positive = ranking_ref[b[ranking_ref] > 0]
        assert hits.ids.tolist() == positive.tolist()


def test_bm25_negative_idf_floor_matches() -> None:
    # "cat" is in 4 of 5 documents: its Okapi idf is negative and rank_bm25 floors it.
    texts = ["cat sat mat cat", "cat dog", "cat bird", "cat fish", "dog bark"]
    ref = BM25Okapi([tokenize(t) for t in texts])
    np.testing.assert_allclose(
        BM25Index(texts).get_scores("cat"), ref.get_scores(["cat"]), atol=1e-6
    )


def test_bm25_persisted_per_generation(tmp_path: Path, corpus: list[str]) -> None:
    calls: list[int] = []

    def texts() -> list[str]:
        calls.append(1)
        return corpus[:50]

    first = BM25Index.cached(tmp_path, 3, texts)
    again = BM25Index.cached(tmp_path, 3, texts)
    assert len(calls) == 1
    np.testing.assert_allclose(first.get_scores("police"), again.get_scores("police"))
    BM25Index.cached(tmp_path, 4, lambda: corpus[:60])
    assert sorted(p.name for p in (tmp_path / "bm25").iterdir()) == ["gen-4"]


def test_bm25_filter_and_errors(corpus: list[str]) -> None:
    index = BM25Index(corpus[:50])
    rows = np.array([1, 2, 3])
    assert set(index.search("the police said", 10, rows=rows).ids.tolist()) <= {1, 2, 3}
    with pytest.raises(EmptyInputError):
        index.search("   ")


def test_rrf_hand_made() -> None:
    fused = rrf([["a", "b", "c"], ["b", "c", "d"]], k=60)
    scores = dict(fused)
    assert [d for d, _ in fused] == ["b", "c", "a", "d"]
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["d"] == pytest.approx(1 / 63)


def test_rrf_weights_and_ties() -> None:
    assert [d for d, _ in rrf([["a"], ["b"]])] == ["a", "b"]  # tie: first seen first
    assert [d for d, _ in rrf([["a"], ["b"]], weights=[1.0, 2.0])] == ["b", "a"]
    assert rrf([[1, 2]], k=0) == [(1, 1.0), (2, 0.5)]
    with pytest.raises(InputError):
        rrf([["a"]], weights=[1.0, 2.0])
