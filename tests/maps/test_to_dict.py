"""A map turns into JSON one way (CorpusMap.to_dict), shared by the CLI and the web lab;
the web lab keeps its maps in a bounded, per-app state."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from fastapi import FastAPI
from starlette.requests import Request

from embedlab.bounded import BoundedCache
from embedlab.maps import corpus_from_texts
from embedlab.maps.build import build_map
from embedlab.server.routes.maps import KEEP_MAPS, MapState, _summary, map_state


@pytest.fixture()
def small_map(topic_corpus, monkeypatch, tmp_path):
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path))
    corpus = corpus_from_texts(topic_corpus.texts, {"topic": topic_corpus.topics}, name="news")
    return build_map(corpus, vectors=topic_corpus.vectors, method="pca", clusters=3)


def test_to_dict_is_json_and_holds_the_maps_own_numbers(small_map) -> None:
    m = small_map
    out = json.loads(json.dumps(m.to_dict(outliers=None)))
    assert out["points"] == len(m.corpus) == len(m.corpus.texts)
    assert out["trust"]["trustworthiness"] == pytest.approx(m.trust.trustworthiness)
    assert [c["size"] for c in out["clusters"]] == [c.size for c in m.clustering.clusters]
    assert sum(c["size"] for c in out["clusters"]) + int(np.sum(m.clustering.labels < 0)) == len(
        m.corpus
    )
    assert [o["row"] for o in out["outliers"]] == [int(i) for i in m.outliers.indices]
    assert len(m.to_dict(outliers=2)["outliers"]) == min(2, len(m.outliers.indices))
    row = out["outliers"][0]["row"] if out["outliers"] else 0
    assert m.point(row)["x"] == pytest.approx(float(m.coords[row, 0]))
    assert out["fields"] == ["cluster", "trust", "outlier", *sorted(m.corpus.fields)]
    assert "topic" in out["fields"]


def test_web_summary_is_to_dict_plus_id_title_and_figure(small_map) -> None:
    web = _summary("news:abc", small_map, "cluster")
    assert set(web) == set(small_map.to_dict()) | {"id", "title", "figure"}
    assert {k: web[k] for k in small_map.to_dict() if k != "seconds"} == {
        k: v for k, v in small_map.to_dict().items() if k != "seconds"
    }


def _request(app: FastAPI) -> Request:
    return Request({"type": "http", "app": app, "headers": [], "method": "GET", "path": "/"})


def test_map_state_is_per_app_and_bounded(small_map) -> None:
    a, b = FastAPI(), FastAPI()
    state = map_state(_request(a))
    assert isinstance(state, MapState) and map_state(_request(a)) is state
    assert map_state(_request(b)) is not state
    for i in range(KEEP_MAPS + 3):
        state.maps.put(f"m{i}", (small_map, "minilm"))
    assert (
        len(state.maps) == KEEP_MAPS
        and "m0" not in state.maps
        and f"m{KEEP_MAPS + 2}" in state.maps
    )


def test_bounded_cache_drops_the_least_recently_used() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.put("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    built = []
    assert cache.get_or_build("d", lambda: built.append(1) or 4) == 4
    assert cache.get_or_build("d", lambda: built.append(1) or 5) == 4 and built == [1]
    with pytest.raises(ValueError, match="at least 1"):
        BoundedCache(0)
    threads = [
        threading.Thread(target=lambda n=n: [cache.put(f"{n}-{i}", i) for i in range(200)])
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 2
