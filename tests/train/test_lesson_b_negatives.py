"""The hard-negative explorer (issue 15): the miner of ``train mine`` on one query over the
demo index, every score and flag against an independent computation (sentence-transformers'
encode and numpy for the dense miner, rank_bm25 for BM25), through the route and the page."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from embedlab.errors import EmptyInputError, InputError
from embedlab.models import Encoder
from embedlab.server.app import create_app
from embedlab.stores.keyword import tokenize
from embedlab.train.negatives_explorer import explore_negatives
from tests.conftest import run_async

QUERY = "Why did shares fall after the central bank raised rates?"
MARGIN = 0.1


@pytest.fixture(scope="module")
def docs(minilm: Encoder) -> list[str]:
    from embedlab.demo import ensure_demo_index

    return list(dict.fromkeys(ensure_demo_index(minilm).texts()))


_REF: dict[int, tuple[list[str], np.ndarray]] = {}


def _dense_reference(minilm: Encoder, docs: list[str]) -> tuple[list[str], np.ndarray]:
    """The documents ranked by sentence-transformers' own cosine to the query (once a run)."""
    if id(docs) in _REF:
        return _REF[id(docs)]
    v = np.asarray(minilm.model.encode([QUERY, *docs], convert_to_numpy=True), dtype=np.float64)  # type: ignore[attr-defined]
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    cos = v[1:] @ v[0]
    order = np.argsort(-cos, kind="stable")
    _REF[id(docs)] = ([docs[i] for i in order], cos[order])
    return _REF[id(docs)]


def test_dense_candidates_equal_an_independent_ranking(minilm: Encoder, docs: list[str]) -> None:
    view = explore_negatives(minilm, docs, QUERY, None, margin=MARGIN, rank_range=(1, 10))
    ranked, scores = _dense_reference(minilm, docs)
    assert view.positive_chosen and view.positive == ranked[0]
    assert view.positive_score == pytest.approx(scores[0], abs=1e-5)
    assert view.documents == len(docs)
    assert [c.rank for c in view.candidates] == list(range(2, 11))
    for c in view.candidates:
        assert c.text == ranked[c.rank - 1]
        assert c.score == pytest.approx(scores[c.rank - 1], abs=1e-5)
        assert c.gap == pytest.approx(scores[0] - scores[c.rank - 1], abs=1e-5)
        assert c.likely_false_negative == (scores[c.rank - 1] > scores[0] - MARGIN)
    # the demo corpus's other 'stocks fall after a rate rise' document is the one flagged
    assert view.flagged == 1 and view.candidates[0].likely_false_negative
    assert "central bank raised" in view.candidates[0].text


def test_a_given_positive_flags_what_scores_above_it(minilm: Encoder, docs: list[str]) -> None:
    ranked, scores = _dense_reference(minilm, docs)
    view = explore_negatives(minilm, docs, QUERY, ranked[3], margin=0.0, rank_range=(1, 6))
    assert not view.positive_chosen and view.positive_score == pytest.approx(scores[3], abs=1e-5)
    assert [c.rank for c in view.candidates] == [1, 2, 3, 5, 6]
    assert [c.likely_false_negative for c in view.candidates] == [True, True, True, False, False]


def test_bm25_equals_rank_bm25(docs: list[str]) -> None:
    view = explore_negatives(None, docs, QUERY, None, method="bm25", margin=0.5, rank_range=(1, 8))
    ref = BM25Okapi([tokenize(d) for d in docs]).get_scores(tokenize(QUERY))
    order = np.argsort(-ref, kind="stable")
    assert view.positive == docs[order[0]]
    assert view.positive_score == pytest.approx(ref[order[0]], abs=1e-4)
    for c in view.candidates:
        assert c.score == pytest.approx(ref[docs.index(c.text)], abs=1e-4)
        assert c.likely_false_negative == (c.score > view.positive_score - 0.5)
    assert [c.score for c in view.candidates] == sorted(
        (c.score for c in view.candidates), reverse=True
    )


def test_bad_input(minilm: Encoder, docs: list[str]) -> None:
    with pytest.raises(EmptyInputError, match="query is empty"):
        explore_negatives(minilm, docs, "  ")
    with pytest.raises(InputError, match="not offered here"):
        explore_negatives(minilm, docs, QUERY, method="cross-encoder")
    with pytest.raises(InputError, match="rank range"):
        explore_negatives(minilm, docs, QUERY, rank_range=(5, 2))


def test_route(minilm: Encoder, docs: list[str]) -> None:
    app = create_app()

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", timeout=300
        ) as c:
            return [
                await c.post("/lab/hard-negatives", json={"index": "demo", "query": QUERY}),
                await c.post("/lab/hard-negatives", json={"index": "nope", "query": QUERY}),
                await c.post("/lab/hard-negatives", json={"index": "../x", "query": QUERY}),
            ]

    ok, missing, path = run_async(go)
    assert ok.status_code == 200, ok.text
    d = ok.json()
    ranked, scores = _dense_reference(minilm, docs)
    assert d["index"] == "demo" and d["model"] == "minilm" and d["positive"] == ranked[0]
    assert [c["score"] for c in d["candidates"]] == pytest.approx(list(scores[1:10]), abs=1e-5)
    assert missing.status_code == 404 and path.status_code == 403


@pytest.mark.browser
def test_the_page_flags_false_negatives(
    page: Any, live_server: str, minilm: Encoder, docs: list[str], test_output: Any
) -> None:
    page.goto(live_server + "/static/negatives.html")
    page.click("#run")
    page.wait_for_selector("#candidates tbody tr", timeout=120_000)
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    ranked, scores = _dense_reference(minilm, docs)
    rows = page.locator("#candidates tbody tr")
    assert rows.count() == 9
    flagged = 0
    for i in range(9):
        cells = rows.nth(i).locator("td")
        assert cells.nth(0).inner_text() == str(i + 2)
        assert cells.nth(1).get_attribute("title") == ranked[i + 1]
        assert cells.nth(2).inner_text() == f"{scores[i + 1]:.4f}"
        assert cells.nth(3).inner_text() == f"{scores[0]:.4f}"
        assert cells.nth(4).inner_text() == f"{scores[0] - scores[i + 1]:.4f}"
        flag = scores[i + 1] > scores[0] - MARGIN
        flagged += flag
        assert cells.nth(5).inner_text() == ("likely false negative" if flag else "")
    line = page.inner_text("#flag-line")
    assert (
        f"9 candidates at ranks 1-10 of {len(docs)} texts in 'demo' (cosine under minilm)" in line
    )
    assert f"{flagged} flagged as likely false negatives (within {MARGIN:.2f} of" in line
    assert f"score {scores[0]:.4f}" in page.inner_text("#positive-line")
    page.screenshot(path=str(test_output / "lab-hard-negatives.png"), full_page=True)
