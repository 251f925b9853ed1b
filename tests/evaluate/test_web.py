"""The Measure page: its API in-process (httpx ASGI) and the page in a real Chromium."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from embedlab.demo import ensure_demo_index
from embedlab.evaluate.collections import collections_dir
from embedlab.evaluate.make import make_news_dataset
from embedlab.server.app import create_app

from .conftest import CHARS, N_ARTICLES

TIMEOUT = 120_000
NEWS = "news-test"


def _run(fn: Any) -> Any:
    app = create_app()

    async def main() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", timeout=300
        ) as c:
            return await fn(c)

    # in a thread: Playwright's sync API keeps an event loop running in the main thread
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


@pytest.fixture(scope="module")
def news_collection(news_run) -> str:
    """The test news set as a named collection (same texts: the embeddings are cached)."""
    make_news_dataset(collections_dir() / NEWS, limit=N_ARTICLES, chars=CHARS)
    return NEWS


@pytest.fixture(scope="module")
def demo_index(minilm) -> str:
    return ensure_demo_index(minilm).name


def test_grid_cost_and_builder_api(news_collection, demo_index) -> None:
    async def flow(c: httpx.AsyncClient) -> None:
        opts = (await c.get("/lab/evaluate/options")).json()
        assert NEWS in opts["collections"] and demo_index in opts["indexes"]
        r = await c.post(
            "/lab/evaluate/grid",
            json={
                "dataset": NEWS,
                "models": ["minilm"],
                "modes": ["dense", "bm25"],
                "dims": [384, 64],
                "quantize": ["none", "binary"],
                "k": 10,
            },
        )
        assert r.status_code == 200, r.text
        g = r.json()
        assert len(g["rows"]) == 5 and g["primary"] == "nDCG@10"
        assert g["embedding"]["minilm"]["cached"] is True
        assert g["figures"]["bytes"]["data"][-1]["name"] == "Pareto front"
        deltas = [q["delta"] for q in g["compare"]["queries"]]
        assert deltas == sorted(deltas)
        r = await c.post(
            "/lab/evaluate/cost", json={"n": 50000, "dims": [384], "quantize": ["binary"]}
        )
        assert r.status_code == 200, r.text
        assert r.json()["rows"][0]["ram_bytes"] == 50000 * 48
        bad = await c.post("/lab/evaluate/grid", json={"dataset": NEWS, "modes": ["sparse"]})
        assert bad.status_code == 400 and "Unknown mode" in bad.json()["error"]["message"]
        # rerank with no reranker chosen: the page's own control is named, not only a CLI flag
        body = {"dataset": NEWS, "modes": ["rerank"]}
        bad = await c.post("/lab/evaluate/grid", json=body)
        assert bad.status_code == 400 and "Measure page" in bad.json()["error"]["message"]
        missing = await c.post("/lab/evaluate/grid", json={"dataset": "nope"})
        assert missing.status_code == 400 and "No test collection" in missing.text
        # the builder: search the demo index, mark two results, save, evaluate on it
        hits = (
            await c.post(
                "/lab/evaluate/search",
                json={
                    "index": demo_index,
                    "query": "how do vaccines work",
                    "k": 5,
                    "mode": "dense",
                },
            )
        ).json()["hits"]
        assert len(hits) == 5
        marks = [
            {"query": "how do vaccines work", "chunk_id": hits[0]["chunk_id"], "grade": 2},
            {"query": "how do vaccines work", "chunk_id": hits[1]["chunk_id"], "grade": 0},
        ]
        saved = await c.post(
            "/lab/evaluate/qrels", json={"name": "mine", "index": demo_index, "judgments": marks}
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["queries"] == 1 and saved.json()["judgments"] == 2
        g2 = (
            await c.post("/lab/evaluate/grid", json={"dataset": "mine", "modes": ["dense"]})
        ).json()
        assert g2["rows"][0]["MRR"] == 1.0  # the top dense hit was the one marked relevant

    _run(flow)


@pytest.mark.browser
def test_measure_page(page, live_server, news_collection, demo_index, test_output) -> None:
    page.goto(f"{live_server}/static/measure.html")
    page.wait_for_selector(f"#dataset option[value='{NEWS}']", state="attached", timeout=TIMEOUT)
    page.select_option("#dataset", NEWS)
    page.fill("#dims", "384,64")
    page.click("#run")
    page.wait_for_selector("#grid-table tbody tr", timeout=TIMEOUT)
    assert (
        page.locator("#grid-table tbody tr").count() == 1 + 2 * 2 * 2
    )  # bm25 + 2 modes x 2 dims x 2
    page.wait_for_selector("#fig-bytes .main-svg", timeout=TIMEOUT)
    page.fill("#cost-n", "200000")
    page.click("#cost-run")
    page.wait_for_selector("#cost-table tbody tr", timeout=TIMEOUT)
    assert page.locator("#cost-table tbody tr").count() == 4
    assert "extrapolated" in page.inner_text("#cost-assumption")
    assert page.locator("#compare-table tbody tr").count() > 0
    assert page.locator("#error").is_hidden()
    page.screenshot(path=str(test_output / "evaluate-measure.png"), full_page=True)
    # the query-set builder: search the demo index, mark the first hit, save
    page.select_option("#b-index", demo_index)
    page.fill("#b-query", "how do vaccines work")
    page.click("#b-search")
    page.wait_for_selector("#b-hits li", timeout=TIMEOUT)
    page.locator("#b-hits select").first.select_option("2")
    page.fill("#b-name", "browser-set")
    page.click("#b-save")
    page.wait_for_function(
        "document.getElementById('builder-status').textContent.includes('Saved')", timeout=TIMEOUT
    )
    assert "1 queries, 1 judgments" in page.inner_text("#builder-status")
    assert page.locator("#dataset").input_value() == "browser-set"
