"""`embedlab search` through click's CliRunner and the search API through httpx's ASGI
transport, over a real embedded index."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli

INDEX = "search-cli"


@pytest.fixture(scope="module")
def cli_index(news: Any, minilm: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from embedlab.stores import create_index, drop_index

    src = tmp_path_factory.mktemp("cli-src") / "news.jsonl"
    with open(src, "w") as f:
        for i in range(40):
            row = {"title": news.titles[i], "text": news.texts[i], "part": str(i % 2)}
            f.write(json.dumps(row) + "\n")
    create_index(INDEX, [src], minilm)
    yield INDEX
    drop_index(INDEX)


def test_cli_search_text_explain_json(cli_index: str, news: Any) -> None:
    runner = CliRunner()
    title = news.titles[5]
    out = runner.invoke(cli, ["search", cli_index, title, "-k", "3"])
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[0].endswith(title)
    out = runner.invoke(cli, ["search", cli_index, title, "--mode", "hybrid", "--explain"])
    assert out.exit_code == 0, out.output
    assert "bm25" in out.output and "fused" in out.output and "moved" in out.output
    out = runner.invoke(
        cli, ["search", cli_index, title, "--json", "--dims", "128", "--quantize", "binary",
              "--filter", "part=1"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["hits"][0]["chunk"]["title"] == title
    assert data["stages"] == ["dense_first", "dense"]
    assert all(h["chunk"]["metadata"]["part"] == "1" for h in data["hits"])


def test_cli_errors(cli_index: str) -> None:
    runner = CliRunner()
    for args, needle in [
        (["search", cli_index, "  "], "empty"),
        (["search", "no-such-index", "x"], "No index named"),
        (["search", cli_index, "x", "--filter", "part"], "Malformed filter"),
        (["search", cli_index, "x", "--model", "minilm-l3"], "fingerprint"),
    ]:
        out = runner.invoke(cli, args)
        assert out.exit_code == 1, out.output
        assert needle in out.output


def _client() -> Any:
    import httpx

    from embedlab.server.app import create_app

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app()), base_url="http://127.0.0.1"
    )


def test_web_search_route(cli_index: str, news: Any, minilm: Any) -> None:
    # A thread of its own: Playwright's sync API may hold an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        hits = pool.submit(asyncio.run, _web_checks(cli_index, news)).result()
    # the dense scores shown are the cosines of the query and each chunk, recomputed here
    query = news.titles[7]
    q = minilm.embed(query, role="query")[0]
    d = minilm.embed([h["chunk"]["text"] for h in hits], role="document")
    np.testing.assert_allclose([h["score"] for h in hits], d @ q, atol=1e-4)
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert hits[0]["chunk"]["title"] == query


async def _web_checks(cli_index: str, news: Any) -> list[dict[str, Any]]:
    async with _client() as client:
        r = await client.get("/lab/search/indexes")
        assert r.status_code == 200 and cli_index in [i["name"] for i in r.json()["indexes"]]
        body = {"index": cli_index, "query": news.titles[6], "k": 5, "mode": "hybrid"}
        r = await client.post("/lab/search", json=body)
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["result"]["hits"][0]["chunk"]["title"] == news.titles[6]
        assert data["figure"]["data"]  # the slope chart of rank movement
        r = await client.post("/lab/search", json={**body, "query": " "})
        assert r.status_code == 400 and "empty" in r.json()["error"]["message"]
        r = await client.post("/lab/search", json={**body, "index": "nope"})
        assert r.status_code == 404
        r = await client.post(
            "/lab/search/costs", json={"index": cli_index, "query": news.titles[6]}
        )
        assert r.status_code == 200, r.text
        rows = r.json()["rows"]
        sizes = {(row["dims"], row["quantize"]): row["bytes_per_vector"] for row in rows}
        assert sizes[(384, None)] == 384 * 4 and sizes[(384, "binary")] == 384 // 8
        assert all(row["bytes_per_vector"] > 0 and row["ms_p50"] > 0 for row in rows)
        r = await client.post(
            "/lab/search",
            json={"index": cli_index, "query": news.titles[7], "k": 5, "mode": "dense"},
        )
        assert r.status_code == 200, r.text
        hits: list[dict[str, Any]] = r.json()["result"]["hits"]
        assert len(hits) == 5
        return hits


def test_search_page_is_served_and_listed() -> None:
    """The app serves the Search page with the controls its script drives, the script calls
    the search routes, and the navigation links to it."""

    async def fetch() -> tuple[Any, Any]:
        async with _client() as client:
            return await client.get("/static/search.html"), await client.get("/static/common.js")

    with ThreadPoolExecutor(1) as pool:
        page, common = pool.submit(asyncio.run, fetch()).result()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for control in ("index", "query", "k", "go", "hits", "movement", "measure", "costs"):
        assert f'id="{control}"' in html, control
    for route in ('"/lab/search"', '"/lab/search/costs"', '"/lab/search/indexes"'):
        assert route in html, route
    assert common.status_code == 200
    assert 'href: "/static/search.html"' in common.text
