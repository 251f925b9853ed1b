"""Exports and exercise prefill in Chromium against the live server (real models): a chart's
PNG and SVG through Plotly's own toImage (the modebar), a table as CSV with the numbers the
page shows checked against the model, and an exercise card opening its page with the
inputs filled, editable, and its extra pairs as presets."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embedlab.models import Encoder

pytestmark = pytest.mark.browser
TIMEOUT = 120_000


def _cos(enc: Encoder, a: str, b: str) -> float:
    v = enc.embed([a, b])
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    return float(v[0] @ v[1])


def test_chart_png_svg_and_table_csv(
    page: Any, live_server: str, minilm: Encoder, glove: Encoder
) -> None:
    page.goto(live_server + "/static/exercises.html")
    page.click("button[data-exercise='model-comparison']")
    box = page.locator("#ex-model-comparison")
    box.locator(".js-plotly-plot").first.wait_for(timeout=TIMEOUT)
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    chart = box.locator(".js-plotly-plot").first
    chart.hover()
    with page.expect_download() as svg:
        chart.locator("[data-title='Download plot as SVG']").click()
    assert Path(svg.value.path()).read_text()[:200].lstrip().startswith("<svg")
    assert svg.value.suggested_filename.endswith(".svg")
    with page.expect_download() as png:
        chart.locator("[data-title^='Download plot as a ']").click()
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the first table (model, dims, L2 norm, ...) as CSV: dims and norms from the models
    with page.expect_download() as dl:
        box.locator("button.csv").first.click()
    rows = list(csv.reader(io.StringIO(Path(dl.value.path()).read_text())))
    assert rows[0][:3] == ["model", "dims", "L2 norm"]
    text = "The quick brown fox jumps over the lazy dog."
    by_model = {r[0]: r for r in rows[1:]}
    for name, enc in (("minilm", minilm), ("glove-50d", glove)):
        vec = enc.embed([text])[0]
        assert by_model[name][1] == str(len(vec))
        assert float(by_model[name][2]) == pytest.approx(float(np.linalg.norm(vec)), abs=2e-3)


def test_exercise_card_opens_its_page_prefilled_with_presets(
    page: Any, live_server: str, minilm: Encoder
) -> None:
    page.goto(live_server + "/static/exercises.html")
    page.click("a.open-page[data-exercise='sentiment-trap']")
    page.wait_for_url("**/similarity.html?**")
    assert page.input_value("#a") == "I love this movie"
    assert page.input_value("#b") == "I hate this movie"
    assert page.input_value("#texts").splitlines()[2] == "The cat sat on the mat"
    page.wait_for_function("document.getElementById('model').value === 'minilm'")
    presets = page.locator("#presets button.preset")
    assert presets.count() == 2
    presets.nth(1).click()
    assert page.input_value("#b") == "The cat sat on the mat"
    page.fill("#a", "I adore this film")  # editable
    page.click("#run")
    page.wait_for_selector("#pair:not([hidden])", timeout=TIMEOUT)
    shown = float(page.locator("#score").text_content())
    assert shown == pytest.approx(
        _cos(minilm, "I adore this film", "The cat sat on the mat"), abs=1e-4
    )

    page.goto(live_server + "/static/exercises.html")
    page.click("a.open-page[data-exercise='king-queen']")
    page.wait_for_url("**/analogies.html?**")
    assert [page.input_value(f"#{k}") for k in ("a", "b", "c", "expected")] == [
        "king", "man", "woman", "queen",
    ]  # fmt: skip
    page.wait_for_function("document.getElementById('model').value === 'glove-50d'")
    page.locator("#presets button.preset").nth(1).click()  # the mirror
    assert [page.input_value(f"#{k}") for k in ("b", "c", "expected")] == ["woman", "man", ""]
