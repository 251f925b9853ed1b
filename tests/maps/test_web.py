"""The Map page: its API in-process (httpx ASGI), and the page in a real Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from embedlab.server.app import create_app
from tests.conftest import run_async

TIMEOUT = 120_000


def _run(app: Any, fn: Any) -> Any:
    async def main() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", timeout=300
        ) as c:
            return await fn(c)

    return run_async(main)


def test_map_api_on_the_demo_index(minilm) -> None:
    app = create_app()

    async def flow(c: httpx.AsyncClient) -> None:
        src = (await c.get("/lab/maps/sources")).json()
        assert [s["name"] for s in src["sources"]][:2] == ["demo", "news"]
        assert {m["name"] for m in src["methods"]} == {"pca", "tsne", "umap"}
        r = await c.post("/lab/maps", json={"source": "demo", "method": "umap", "job": "t1"})
        assert r.status_code == 200, r.text
        assert (await c.get("/lab/maps/progress/t1")).json()["stage"] == "done"
        m = r.json()
        assert m["points"] >= 40 and 0.5 < m["trust"]["trustworthiness"] <= 1.0
        assert m["figure"]["data"][0]["type"] == "scattergl" and m["clusters"]
        assert "trustworthiness" in m["title"]
        # a second request is served from the cache in the index's folder
        again = (await c.post("/lab/maps", json={"source": "demo", "method": "umap"})).json()
        assert all(again["cached"].values()) and again["id"] == m["id"]
        from embedlab.stores import open_index

        assert list((open_index("demo").folder / "maps").glob("*.npz"))
        nb = (await c.get(f"/lab/maps/{m['id']}/neighbours/0?k=5")).json()
        assert len(nb["neighbours"]) == 5 and nb["point"]["row"] == 0
        sims = [p["similarity"] for p in nb["neighbours"]]
        assert sims == sorted(sims, reverse=True)
        q = (await c.post(f"/lab/maps/{m['id']}/query", json={"text": "cooking pasta"})).json()
        assert q["how"] == "transform" and len(q["neighbours"]) == 10
        fig = (await c.post(f"/lab/maps/{m['id']}/figure", json={"color_by": "trust"})).json()
        assert "colorbar" in fig["figure"]["data"][0]["marker"]
        bad = await c.post(f"/lab/maps/{m['id']}/figure", json={"color_by": "nope"})
        assert bad.status_code == 400 and "Fields here:" in bad.json()["error"]["message"]
        few = await c.post("/lab/maps", json={"source": "no-such-index", "method": "pca"})
        assert few.status_code == 404

    _run(app, flow)


@pytest.mark.browser
def test_map_page_renders_hovers_and_places_a_query(
    page: Any, live_server: str, test_output: Path
) -> None:
    page.goto(live_server + "/static/map.html")
    page.wait_for_selector("#source option", state="attached")
    page.select_option("#method", "pca")
    page.click("#build")
    page.wait_for_selector("#map[data-ready]", timeout=TIMEOUT)
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    assert float(page.locator("#trustscore").text_content()) > 0.5
    assert page.locator("#clusters-table tbody tr").count() >= 2
    # hover a real point: find its pixel position from plotly's axes
    xy = page.evaluate(
        """() => { const gd = document.getElementById('map'); const t = gd._fullData[0];
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
        return [box.left + xa.l2p(t.x[0]), box.top + ya.l2p(t.y[0])]; }"""
    )
    page.mouse.move(xy[0], xy[1])
    page.wait_for_selector(".hoverlayer .hovertext", timeout=10_000)
    assert len(page.locator(".hoverlayer .hovertext").text_content()) > 10
    page.mouse.click(xy[0], xy[1])
    page.wait_for_selector("#neighbours li", timeout=TIMEOUT)
    page.fill("#query", "How do I make a cake?")
    page.click("#place")
    page.wait_for_selector("#queryhits li", timeout=TIMEOUT)
    assert "transform" in page.locator("#querynote").text_content()
    names = page.evaluate("() => document.getElementById('map').data.map((t) => t.name)")
    assert "query" in names and "query's nearest" in names
    page.screenshot(path=str(test_output / "maps_page.png"), full_page=True)
