"""`embedlab search` through click's CliRunner and the search API through httpx's ASGI
transport, over a real embedded index."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

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
    assert out.output.splitlines()[0].endswith(title)
    out = runner.invoke(cli, ["search", cli_index, title, "--mode", "hybrid", "--explain"])
    assert out.exit_code == 0, out.output
    assert "bm25" in out.output and "fused" in out.output and "moved" in out.output
    out = runner.invoke(
        cli, ["search", cli_index, title, "--json", "--dims", "128", "--quantize", "binary",
              "--filter", "part=1"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
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

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://127.0.0.1")


def test_web_search_route(cli_index: str, news: Any) -> None:
    # A thread of its own: Playwright's sync API may hold an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _web_checks(cli_index, news)).result()


async def _web_checks(cli_index: str, news: Any) -> None:
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
        assert {(row["dims"], row["quantize"]) for row in rows} >= {(384, None), (384, "binary")}
        assert all(row["bytes_per_vector"] > 0 and row["ms_p50"] > 0 for row in rows)


def test_search_page_is_listed() -> None:
    static = Path(__file__).resolve().parents[2] / "src/embedlab/server/static"
    assert (static / "search.html").exists()
    assert "search.html" in (static / "common.js").read_text()
