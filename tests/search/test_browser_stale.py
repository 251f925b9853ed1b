"""A new request clears what it replaces (issue 15 #10): after a good result, a request that
fails leaves no old result or status line on the Playground and Search pages (Chromium)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

INDEX = "search-browser-stale"


@pytest.fixture(scope="module")
def stale_index(news: Any, minilm: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from embedlab.stores import create_index, drop_index

    src = tmp_path_factory.mktemp("stale-src") / "news.jsonl"
    with open(src, "w") as f:
        for i in range(10):
            f.write(json.dumps({"title": news.titles[i], "text": news.texts[i]}) + "\n")
    create_index(INDEX, [src], minilm)
    yield INDEX
    drop_index(INDEX)


@pytest.mark.browser
def test_an_error_after_a_result_leaves_no_old_result(
    page: Any, live_server: str, stale_index: str, news: Any
) -> None:
    page.goto(f"{live_server}/static/playground.html")
    page.wait_for_selector("#model option", state="attached")
    page.fill("#text", "Embeddings turn text into vectors.")
    page.click("#run")
    page.wait_for_selector("#result:not([hidden])")
    page.fill("#text", "   ")  # refused by the server: 400
    page.click("#run")
    page.wait_for_selector("#error:not([hidden])")
    assert page.locator("#result").is_hidden()

    page.goto(f"{live_server}/static/search.html")
    page.wait_for_selector(f"#index option[value='{stale_index}']", state="attached")
    page.select_option("#index", stale_index)
    page.fill("#query", news.titles[2])
    page.click("#go")
    page.wait_for_selector("#hits li[data-chunk]")
    assert "total" in page.inner_text("#status")
    page.fill("#query", " ")
    page.click("#go")
    page.wait_for_selector("#error:not([hidden])")
    assert page.locator("#hits li").count() == 0
    assert page.inner_text("#status").strip() == ""
    assert page.locator("#movement .main-svg").count() == 0
