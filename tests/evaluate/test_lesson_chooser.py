"""The model chooser (issue 15, lessons): the table's catalogue columns equal the catalogue,
benchmark scores appear only where the catalogue records them, and the measured quality
equals trec_eval (pytrec_eval) on a numpy search over the model's own vectors; in Chromium
the Measure buttons fill the row and every column sorts."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest
import pytrec_eval

from embedlab.evaluate.cache import embed_cached
from embedlab.evaluate.collections import collections_dir
from embedlab.evaluate.make import make_news_dataset
from embedlab.models import Encoder
from embedlab.models.registry import CATALOGUE, is_installed
from embedlab.server.app import create_app
from tests.conftest import run_async

from .conftest import CHARS, N_ARTICLES

NEWS = "news-chooser"


def _call(method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", timeout=300
        ) as c:
            return await c.request(method, path, json=body)

    return run_async(main)


@pytest.fixture(scope="module")
def collection(news_run: Any) -> str:
    make_news_dataset(collections_dir() / NEWS, limit=N_ARTICLES, chars=CHARS)
    return NEWS


def _trec_ndcg(news_run: Any, enc: Encoder) -> float:
    q = embed_cached(enc, news_run.titles, "query").vectors.astype(np.float64)
    d = embed_cached(enc, news_run.bodies, "document").vectors.astype(np.float64)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    s = q @ d.T
    run = {
        qid: {news_run.doc_ids[j]: float(s[i, j]) for j in np.argsort(-s[i])[:10]}
        for i, qid in enumerate(news_run.qids)
    }
    qrels = {qid: news_run.dataset.qrels[qid] for qid in news_run.qids}
    ev = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10"})
    return float(np.mean([m["ndcg_cut_10"] for m in ev.evaluate(run).values()]))


def test_table_is_the_catalogue() -> None:
    r = _call("GET", "/lab/chooser")
    assert r.status_code == 200, r.text
    rows = {m["name"]: m for m in r.json()["models"]}
    for spec in CATALOGUE:
        row = rows[spec.name]
        assert row["dims"] == spec.dims and row["size_mb"] == spec.size_mb
        assert row["installed"] == is_installed(spec)
        assert row["matryoshka"] == list(spec.matryoshka)
        # scores only from the catalogue's record, each with its source; none invented
        assert row["benchmarks"] == [
            {"benchmark": b, "score": s, "source": src} for b, s, src in spec.benchmarks
        ]


@pytest.mark.parametrize("fixture", ["glove", "minilm"])
def test_measured_quality_and_speed(
    fixture: str, request: pytest.FixtureRequest, collection: str, news_run: Any
) -> None:
    enc: Encoder = request.getfixturevalue(fixture)
    r = _call("POST", "/lab/chooser/measure", {"model": enc.info.name, "dataset": collection})
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["ndcg"] == pytest.approx(_trec_ndcg(news_run, enc), abs=2e-3)
    assert m["dims"] == enc.info.dims and m["max_tokens"] == enc.info.max_tokens
    assert m["documents"] == N_ARTICLES and m["queries"] == len(news_run.qids)
    assert m["speed_texts"] == 64
    assert m["docs_per_s"] == pytest.approx(m["speed_texts"] / m["encode_seconds"], rel=1e-9)
    assert m["query_ms"] > 0


def test_measure_refusals(collection: str) -> None:
    r = _call("POST", "/lab/chooser/measure", {"model": "/tmp/x", "dataset": collection})
    assert r.status_code == 403
    r = _call("POST", "/lab/chooser/measure", {"model": "no-such-model", "dataset": collection})
    assert r.status_code == 404


def _column(page: Any, key: str) -> list[str]:
    return list(page.locator(f"#chooser tbody td.c-{key}").all_inner_texts())


@pytest.mark.browser
def test_chooser_page(
    page: Any, live_server: str, collection: str, news_run: Any, glove: Encoder, minilm: Encoder
) -> None:
    page.goto(f"{live_server}/static/chooser.html")
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    page.select_option("#c-dataset", collection)
    names = _column(page, "name")
    assert len(names) >= len(CATALOGUE)
    for spec in CATALOGUE:
        row = page.locator(f"#chooser tr[data-name='{spec.name}']")
        assert row.locator("td.c-dims").inner_text() == str(spec.dims)
        bench = row.locator("td.c-benchmarks").inner_text()
        if not spec.benchmarks:
            assert bench == "not recorded"
        for b, score, _src in spec.benchmarks:
            assert f"{b}: {score}" in bench
    want = {"glove-50d": _trec_ndcg(news_run, glove), "minilm": _trec_ndcg(news_run, minilm)}
    for name in want:
        page.locator(f"#chooser tr[data-name='{name}'] button.measure").click()
        page.wait_for_selector(
            f"#chooser tr[data-name='{name}'] td.c-ndcg[data-value]", timeout=120_000
        )
    for name, ndcg in want.items():
        cell = page.locator(f"#chooser tr[data-name='{name}'] td.c-ndcg")
        assert float(cell.get_attribute("data-value")) == pytest.approx(ndcg, abs=2e-3)
        assert cell.inner_text() == f"{float(cell.get_attribute('data-value')):.4f}"
        speed = page.locator(f"#chooser tr[data-name='{name}'] td.c-docs_per_s")
        assert float(speed.get_attribute("data-value")) > 0
    # sort by each numeric column: known values first, in order; then the other way
    for key in ("ndcg", "dims", "size_mb", "docs_per_s"):
        page.click(f"#chooser th[data-key='{key}']")
        vals = [
            float(v)
            for v in page.locator(f"#chooser tbody td.c-{key}[data-value]").evaluate_all(
                "tds => tds.map(td => td.dataset.value)"
            )
        ]
        assert vals == sorted(vals, reverse=True) and vals
        page.click(f"#chooser th[data-key='{key}']")
        vals = [
            float(v)
            for v in page.locator(f"#chooser tbody td.c-{key}[data-value]").evaluate_all(
                "tds => tds.map(td => td.dataset.value)"
            )
        ]
        assert vals == sorted(vals)
    page.click("#chooser th[data-key='name']")
    shown = [n.replace(" (not installed)", "") for n in _column(page, "name")]
    assert shown == sorted(shown, key=lambda s: s.lower())
    assert page.locator("#nav a[data-page='chooser']").count() == 1
