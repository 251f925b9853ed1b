"""A 2-D word space (issue 15, lessons): the points are the map code's PCA of the real
model's vectors (recomputed here with numpy's SVD), the grouping numbers are recomputed
with numpy, and related words group for GloVe and for a sentence model."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from embedlab.maps.word_space import WORD_LISTS
from embedlab.models import Encoder
from embedlab.server.app import create_app
from tests.conftest import run_async

LIST = "animals, countries, colours"


def _post(path: str, body: dict[str, Any]) -> httpx.Response:
    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.post(path, json=body)

    return run_async(main)


def _ready(name: str = LIST) -> tuple[list[str], list[str]]:
    fam = WORD_LISTS[name]
    return [w for ws in fam.values() for w in ws], [g for g, ws in fam.items() for _ in ws]


def _vectors(enc: Encoder, words: list[str]) -> np.ndarray:
    return np.vstack([np.asarray(enc.embed(w), dtype=np.float64).reshape(-1) for w in words])


def _check_pca(x: list[float], y: list[float], vectors: np.ndarray) -> None:
    """The points are the first two principal components (each up to its sign)."""
    c = vectors - vectors.mean(axis=0)
    u, s, _ = np.linalg.svd(c, full_matrices=False)
    want = u[:, :2] * s[:2]
    got = np.column_stack([x, y])
    for k in range(2):
        sign = np.sign(got[:, k] @ want[:, k])
        np.testing.assert_allclose(sign * got[:, k], want[:, k], atol=2e-3 * s[0])


def _check_grouping(d: dict[str, Any], vectors: np.ndarray, groups: list[str]) -> None:
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cos = v @ v.T
    xy = np.column_stack([d["x"], d["y"]])
    dist = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    g = np.array(groups)
    same, off = g[:, None] == g[None], ~np.eye(len(g), dtype=bool)
    gr = d["grouping"]
    assert gr["within_cosine"] == pytest.approx(cos[same & off].mean(), abs=1e-5)
    assert gr["between_cosine"] == pytest.approx(cos[~same].mean(), abs=1e-5)
    assert gr["within_distance_2d"] == pytest.approx(dist[same & off].mean(), rel=1e-5)
    assert gr["between_distance_2d"] == pytest.approx(dist[~same].mean(), rel=1e-5)
    c2 = cos.copy()
    np.fill_diagonal(c2, -np.inf)
    assert d["nearest"] == [d["words"][j] for j in c2.argmax(axis=1)]


@pytest.mark.parametrize("fixture", ["glove", "minilm"])
def test_word_space_groups_related_words(fixture: str, request: pytest.FixtureRequest) -> None:
    enc: Encoder = request.getfixturevalue(fixture)
    words, groups = _ready()
    r = _post("/lab/words/space", {"words": words, "groups": groups, "model": enc.info.name})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["words"] == words and d["groups"] == groups and d["grouped_by"] == "given"
    vectors = _vectors(enc, words)
    _check_pca(d["x"], d["y"], vectors)
    _check_grouping(d, vectors, groups)
    # related words visibly grouped: closer inside a family, in the full space and on the map
    gr = d["grouping"]
    assert gr["separated"] and gr["within_distance_2d"] < 0.5 * gr["between_distance_2d"]


def test_typed_words_are_clustered(glove: Encoder) -> None:
    words = ["paris", "london", "berlin", "madrid", "apple", "banana", "cherry", "grape"]
    r = _post("/lab/words/space", {"words": words, "model": "glove-50d", "clusters": 2})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["grouped_by"].startswith("k-means")
    assert len(set(d["groups"][:4])) == 1 and len(set(d["groups"][4:])) == 1
    assert d["groups"][0] != d["groups"][4]
    _check_grouping(d, _vectors(glove, words), d["groups"])
    r = _post("/lab/words/space", {"words": ["a", "b", "c"], "model": "glove-50d"})
    assert r.status_code == 422  # fewer than four words
    r = _post("/lab/words/space", {"words": words, "model": "glove-50d", "method": "tsne"})
    assert r.status_code == 400 and "at least 10 points" in r.json()["error"]["message"]


@pytest.mark.browser
def test_word_space_page(page: Any, live_server: str, minilm: Encoder) -> None:
    page.goto(f"{live_server}/static/words.html")
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    page.select_option("#space-list", "sports, music, weather")
    page.select_option("#space-model", "minilm")
    page.click("#space-run")
    page.wait_for_selector("#space-plot .main-svg", timeout=60_000)
    traces = page.evaluate(
        "Array.from(document.getElementById('space-plot').data).map(t => "
        "({name: t.name, x: Array.from(t.x), y: Array.from(t.y), text: Array.from(t.text)}))"
    )
    fam = WORD_LISTS["sports, music, weather"]
    assert [t["name"] for t in traces] == list(fam)  # one colour per family
    assert [t["text"] for t in traces] == list(fam.values())
    words, _ = _ready("sports, music, weather")
    x = [v for t in traces for v in t["x"]]
    y = [v for t in traces for v in t["y"]]
    _check_pca(x, y, _vectors(minilm, words))
    assert "related words sit together" in page.inner_text("#space-grouping")
