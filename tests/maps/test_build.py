"""The map pipeline: cached on the second call, aligned rows, sampling only when asked."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from embedlab.errors import UnknownFieldError
from embedlab.maps import build as build_module
from embedlab.maps import corpus_from_texts
from embedlab.maps.build import build_map


@pytest.fixture()
def corpus(topic_corpus):
    return corpus_from_texts(topic_corpus.texts, {"topic": topic_corpus.topics}, name="news")


def test_second_map_is_read_from_the_cache_without_recomputing(
    corpus, topic_corpus, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path))
    calls = {"project": 0, "clusters": 0, "trust": 0}
    for name, key in (
        ("project", "project"),
        ("find_clusters", "clusters"),
        ("map_trust", "trust"),
    ):
        real = getattr(build_module, name)

        def counted(*a, _real=real, _key=key, **kw):
            calls[_key] += 1
            return _real(*a, **kw)

        monkeypatch.setattr(build_module, name, counted)
    first = build_map(corpus, vectors=topic_corpus.vectors, method="pca", clusters=3)
    assert calls == {"project": 1, "clusters": 1, "trust": 1}
    assert not any(first.cached.values())
    assert list((tmp_path / "cache" / "maps").glob("*.npz"))
    second = build_map(corpus, vectors=topic_corpus.vectors, method="pca", clusters=3)
    assert calls == {"project": 1, "clusters": 1, "trust": 1}  # nothing recomputed
    assert all(second.cached.values())
    np.testing.assert_array_equal(first.coords, second.coords)
    np.testing.assert_array_equal(first.clustering.labels, second.clustering.labels)
    assert [c.words for c in first.clustering.clusters] == [
        c.words for c in second.clustering.clusters
    ]
    assert second.trust.trustworthiness == first.trust.trustworthiness
    assert second.seconds["total"] < 0.5
    # a query is still placed by the PCA transform, rebuilt from the cache
    q = second.place_vector("q", topic_corpus.vectors[:1])
    assert q.how == "transform"
    assert (q.x, q.y) == pytest.approx(tuple(first.coords[0]), abs=1e-4)
    # other parameters are another entry
    build_map(corpus, vectors=topic_corpus.vectors, method="pca", clusters=4)
    assert calls["clusters"] == 2 and calls["project"] == 1


def test_map_rows_neighbours_and_csv(corpus, topic_corpus, tmp_path, minilm) -> None:
    m = build_map(corpus, vectors=topic_corpus.vectors, method="pca", clusters=3, use_cache=False)
    nn = m.neighbours(0, k=5)
    assert len(nn) == 5 and 0 not in [j for j, _ in nn]
    assert [s for _, s in nn] == sorted((s for _, s in nn), reverse=True)
    q = m.place_query(minilm, "Brexit negotiations with the European Union")
    assert sum(topic_corpus.topics[j] == "brexit" for j, _ in q.neighbours) >= 8
    path = m.write_csv(tmp_path / "coords.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == len(topic_corpus.texts)
    assert {"x", "y", "cluster", "cluster_label", "outlier", "trust", "topic", "text"} <= set(
        rows[0]
    )
    assert float(rows[3]["x"]) == pytest.approx(float(m.coords[3, 0]))
    with pytest.raises(UnknownFieldError, match="Fields here: source, topic"):
        m.colour_values("colour")


def test_sampling_happens_only_when_asked_and_is_stated(corpus, topic_corpus) -> None:
    full = build_map(
        corpus, vectors=topic_corpus.vectors, method="pca", clusters=3, use_cache=False
    )
    assert len(full.corpus) == len(topic_corpus.texts) and full.sampled_from is None
    part = build_map(
        corpus, vectors=topic_corpus.vectors, method="pca", clusters=3, sample=60, use_cache=False
    )
    assert len(part.corpus) == 60 and part.coords.shape == (60, 2)
    assert "random sample of 60 of 135" in part.note
    row = topic_corpus.texts.index(part.corpus.texts[0])
    np.testing.assert_array_equal(part.vectors[0], topic_corpus.vectors[row])
