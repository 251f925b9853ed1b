"""The static-model lesson: its numbers against model2vec's and sentence-transformers' own
encoders, its sorting, its bad input, the JSON route, and the page in a real Chromium."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from embedlab.errors import InputError
from embedlab.explore.static_lesson import LESSON_PAIRS, static_lesson
from embedlab.models import Encoder
from embedlab.server.app import create_app
from tests.conftest import run_async


@functools.cache
def _model2vec(folder: Path) -> Any:
    from model2vec import StaticModel

    return StaticModel.from_pretrained(folder, force_download=False)


def _reference_cosines(static: Any, teacher: Any, a: str, b: str) -> tuple[float, float]:
    """Each model's cosine computed by its own library, not by embedlab."""
    vs = _model2vec(static.folder).encode([a, b]).astype(np.float64)
    vt = teacher.model.encode([a, b], convert_to_numpy=True).astype(np.float64)
    cos = lambda v: float(v[0] @ v[1] / np.linalg.norm(v[0]) / np.linalg.norm(v[1]))  # noqa: E731
    return cos(vs), cos(vt)


@pytest.fixture(scope="module")
def lesson(minilm_static: Encoder, minilm: Encoder) -> Any:
    return static_lesson(LESSON_PAIRS, minilm_static, minilm)


def test_every_cosine_matches_each_librarys_own_encoder(
    lesson: Any, minilm_static: Encoder, minilm: Encoder
) -> None:
    assert lesson.static_model == "minilm-static" and lesson.teacher_model == "minilm"
    assert lesson.texts == len({t for p in LESSON_PAIRS for t in (p.a, p.b)})
    for p in lesson.pairs:
        s, t = _reference_cosines(minilm_static, minilm, p.a, p.b)
        assert p.static == pytest.approx(s, abs=3e-3), p.a
        assert p.teacher == pytest.approx(t, abs=1e-4), p.a
        assert p.gap == pytest.approx(p.static - p.teacher)


def test_sorted_by_disagreement_and_word_order_is_invisible(lesson: Any) -> None:
    gaps = [abs(p.gap) for p in lesson.pairs]
    assert gaps == sorted(gaps, reverse=True)
    by_a = {p.a: p for p in lesson.pairs}
    order = by_a["The dog bit the man"]
    assert order.same_tokens and order.static == pytest.approx(1.0, abs=1e-5)
    assert order.teacher < 0.999  # the transformer reads the order
    bank = by_a["I sat on the river bank"]
    assert "bank" in bank.tokens_a and "bank" in bank.tokens_b and not bank.same_tokens
    d = lesson.to_dict()
    assert d["pairs"][0]["gap"] == pytest.approx(lesson.pairs[0].gap)
    assert lesson.static_ms > 0 and lesson.teacher_ms > 0


def test_bad_pairs(minilm_static: Encoder, minilm: Encoder) -> None:
    with pytest.raises(InputError, match="No pairs"):
        static_lesson([], minilm_static, minilm)
    with pytest.raises(InputError, match="Pair #1 is not two texts"):
        static_lesson([("a cat", "a dog"), ("only one",)], minilm_static, minilm)


def test_route_answers_the_ready_pairs_and_yours(minilm_static: Encoder, minilm: Encoder) -> None:
    app = create_app()

    async def go() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", timeout=120
        ) as c:
            return (
                await c.get("/lab/static-lesson"),
                await c.post("/lab/static-lesson", json={"pairs": [["the dog", "the man"]]}),
                await c.post("/lab/static-lesson", json={"pairs": [["the dog", ""]]}),
            )

    ready, mine, empty = run_async(go)
    assert ready.status_code == 200, ready.text
    data = ready.json()
    assert len(data["pairs"]) == len(LESSON_PAIRS) and data["info"]["static"]["dims"] == 64
    assert mine.status_code == 200 and mine.json()["pairs"][0]["a"] == "the dog"
    s, t = _reference_cosines(minilm_static, minilm, "the dog", "the man")
    assert mine.json()["pairs"][0]["static"] == pytest.approx(s, abs=3e-3)
    assert mine.json()["pairs"][0]["teacher"] == pytest.approx(t, abs=1e-4)
    assert empty.status_code == 400 and "empty" in empty.json()["error"]["message"]


@pytest.mark.browser
def test_the_page_shows_the_lesson_with_numbers(
    page: Any, live_server: str, lesson: Any, test_output: Path
) -> None:
    page.goto(live_server + "/static/static.html")
    page.wait_for_selector("#lesson-table tbody tr", timeout=60_000)
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    rows = page.locator("#lesson-table tbody tr")
    assert rows.count() == len(LESSON_PAIRS)
    first = lesson.pairs[0]
    assert rows.nth(0).locator("td").nth(0).inner_text() == first.a
    assert rows.nth(0).locator(".static-cos").inner_text() == f"{first.static:.3f}"
    assert rows.nth(0).locator(".teacher-cos").inner_text() == f"{first.teacher:.3f}"
    assert rows.nth(0).locator(".gap").inner_text() == f"{first.gap:.3f}"
    assert "same bag of tokens" in page.locator("#lesson-table").inner_text()
    assert "one table lookup" in page.inner_text("main")
    speed = page.inner_text("#lesson-speed")
    assert f"{lesson.texts} texts" in speed and "minilm-static took" in speed
    page.fill("#pairs", "The dog bit the man | The man bit the dog")
    page.click("#run")
    page.wait_for_function("document.querySelectorAll('#lesson-table tbody tr').length === 1")
    assert page.locator(".static-cos").inner_text() == "1.000"
    page.screenshot(path=str(test_output / "lab-static-lesson.png"), full_page=True)
