"""The lab in a real Chromium: each panel runs against the live server and draws its result.

Screenshots land in the test output folder for people to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

TIMEOUT = 60_000


def _no_error(page: Any) -> None:
    box = page.locator("#error")
    assert box.is_hidden(), box.text_content()


def test_home_and_playground(page: Any, live_server: str, test_output: Path) -> None:
    page.goto(live_server + "/")
    assert page.locator("#nav a").count() >= 7
    page.wait_for_selector("#models tbody tr")
    page.goto(live_server + "/static/playground.html")
    page.wait_for_selector("#model option", state="attached")
    page.fill("#text", "Embeddings turn text into vectors.")
    page.press("#text", "Control+Enter")
    page.wait_for_selector("#chart .main-svg", timeout=TIMEOUT)
    _no_error(page)
    assert page.locator("#chart .bars path").count() == 384  # one bar per dimension
    stats = page.locator("#stats").inner_text()
    assert "L2 NORM" in stats.upper() and "1.0000" in stats
    assert "inference" in page.locator("#timing").inner_text()
    assert page.locator("#history button").count() >= 1  # kept for reloading
    page.screenshot(path=str(test_output / "lab-playground.png"), full_page=True)


def test_similarity_meter_and_heatmap(page: Any, live_server: str, test_output: Path) -> None:
    page.goto(live_server + "/static/similarity.html")
    page.wait_for_selector("#model option", state="attached")
    page.click("#run")
    page.wait_for_function("document.getElementById('score').textContent !== '–'", timeout=TIMEOUT)
    assert float(page.locator("#score").inner_text()) > 0.5  # love/hate this movie
    assert page.locator("#bands .band-row").count() >= 3  # the calibration bands
    page.click("#run-matrix")
    page.wait_for_selector("#heatmap .main-svg", timeout=TIMEOUT)
    _no_error(page)
    page.screenshot(path=str(test_output / "lab-similarity.png"), full_page=True)


def test_compare_models(page: Any, live_server: str, test_output: Path) -> None:
    page.goto(live_server + "/static/compare.html")
    page.wait_for_selector("#models input")
    page.click("#run")
    page.wait_for_selector("#heatmaps .main-svg", timeout=TIMEOUT)
    _no_error(page)
    assert "minilm vs glove-50d" in page.locator("#agreement").inner_text()
    assert page.locator("#stats-table th").count() >= 3
    page.screenshot(path=str(test_output / "lab-compare.png"), full_page=True)


def test_analogy_and_exercise(page: Any, live_server: str, test_output: Path) -> None:
    page.goto(live_server + "/static/analogies.html")
    page.wait_for_selector("#probes button")
    page.click("#run")
    page.wait_for_selector("#figure .main-svg", timeout=TIMEOUT)
    _no_error(page)
    assert page.locator("#answers tbody tr").first.inner_text().split()[1] == "queen"
    assert "rank 1" in page.locator("#expected-rank").inner_text()
    page.screenshot(path=str(test_output / "lab-analogies.png"), full_page=True)

    page.goto(live_server + "/static/exercises.html")
    page.click("button[data-exercise='sentiment-trap']")
    page.wait_for_selector("#ex-sentiment-trap .main-svg", timeout=TIMEOUT)
    _no_error(page)
    assert (
        "I love this movie ↔ I hate this movie" in page.locator("#ex-sentiment-trap").inner_text()
    )
    page.screenshot(path=str(test_output / "lab-exercises.png"), full_page=True)


def test_errors_show_in_the_page(page: Any, live_server: str) -> None:
    page.goto(live_server + "/static/playground.html")
    page.wait_for_selector("#model option", state="attached")
    page.fill("#text", "   ")
    page.click("#run")
    page.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT)
    assert "empty" in page.locator("#error").inner_text()
