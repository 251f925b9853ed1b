"""One-hot versus dense (issue 15, lessons): every cosine the API and the page show is
recomputed here with numpy from the real model's vectors (GloVe and MiniLM)."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from embedlab.explore.onehot import LESSON_WORDS
from embedlab.models import Encoder
from embedlab.server.app import create_app
from tests.conftest import run_async

WORDS = ["cat", "kitten", "dog", "truck", "queen", "king"]


def _post(path: str, body: dict[str, Any]) -> httpx.Response:
    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.post(path, json=body)

    return run_async(main)


def _numpy_cosines(enc: Encoder, words: list[str]) -> np.ndarray:
    v = np.vstack([np.asarray(enc.embed(w), dtype=np.float64).reshape(-1) for w in words])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v @ v.T


@pytest.mark.parametrize("fixture", ["glove", "minilm"])
def test_onehot_and_dense_cosines(fixture: str, request: pytest.FixtureRequest) -> None:
    enc: Encoder = request.getfixturevalue(fixture)
    r = _post("/lab/words/onehot", {"words": WORDS, "model": enc.info.name, "chosen": "cat"})
    assert r.status_code == 200, r.text
    d = r.json()
    n = len(WORDS)
    # one-hot: n dims, one 1 per word at its own position, every pair at cosine exactly 0
    assert d["onehot_dims"] == n and d["onehot_positions"] == list(range(n))
    assert np.array_equal(np.array(d["onehot_cosines"]), np.eye(n))
    assert all(row["onehot"] == 0.0 for row in d["from_chosen"])
    # dense: the model's own vectors, cosines equal numpy's
    want = _numpy_cosines(enc, WORDS)
    np.testing.assert_allclose(d["dense_cosines"], want, atol=1e-5)
    assert d["dense_dims"] == enc.info.dims
    got = {row["word"]: row["dense"] for row in d["from_chosen"]}
    assert set(got) == set(WORDS) - {"cat"}
    for w, c in got.items():
        assert c == pytest.approx(want[0, WORDS.index(w)], abs=1e-5)
    ordered = [row["dense"] for row in d["from_chosen"]]
    assert ordered == sorted(ordered, reverse=True)
    # the lesson's point holds with real vectors: kitten is nearer cat than truck is
    assert got["kitten"] > got["truck"]
    first8 = np.asarray(enc.embed("cat"), dtype=np.float64).reshape(-1)[:8]
    np.testing.assert_allclose(d["dense_preview"][0], first8, atol=1e-5)


def test_onehot_refusals() -> None:
    r = _post("/lab/words/onehot", {"words": ["cat", "cat"], "model": "glove-50d"})
    assert r.status_code == 400 and "two different words" in r.json()["error"]["message"]
    r = _post("/lab/words/onehot", {"words": ["cat", "dog"], "chosen": "cow"})
    assert r.status_code == 400 and "not in the list" in r.json()["error"]["message"]
    r = _post("/lab/words/onehot", {"words": ["cat", "dog"], "model": "/etc/passwd"})
    assert r.status_code == 403


@pytest.mark.browser
def test_onehot_page(page: Any, live_server: str, glove: Encoder) -> None:
    page.goto(f"{live_server}/static/words.html")
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    page.select_option("#oh-model", "glove-50d")
    page.click("#oh-run")
    page.wait_for_selector("#oh-table .oh-row", timeout=60_000)
    words = list(LESSON_WORDS)
    want = _numpy_cosines(glove, words)
    shown = dict(
        zip(
            page.locator("#oh-table .oh-word").all_inner_texts(),
            page.locator("#oh-table .oh-cos").all_inner_texts(),
            strict=True,
        )
    )
    assert set(shown) == set(words) - {"cat"}
    for w, text in shown.items():
        assert float(text) == pytest.approx(want[0, words.index(w)], abs=6e-4)
    page.check("#view-onehot")  # the toggle: the same words as one-hot vectors
    assert set(page.locator("#oh-table .oh-cos").all_inner_texts()) == {"0.000"}
    assert f"{len(words)} dimensions" in page.inner_text("#oh-summary")
    page.check("#view-dense")
    page.select_option("#oh-chosen", "king")  # similarities from another word
    page.wait_for_function(
        "document.querySelector('#oh-table th:nth-child(2)').textContent.includes('king')"
    )
    shown = dict(
        zip(
            page.locator("#oh-table .oh-word").all_inner_texts(),
            page.locator("#oh-table .oh-cos").all_inner_texts(),
            strict=True,
        )
    )
    k = words.index("king")
    for w, text in shown.items():
        assert float(text) == pytest.approx(want[k, words.index(w)], abs=6e-4)
    assert page.locator("#nav a[data-page='words']").count() == 1
