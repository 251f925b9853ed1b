"""The Search page in a real Chromium: pick an index, search, see results and the chart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

INDEX = "search-browser"


@pytest.fixture(scope="module")
def browser_index(
    news: Any, minilm: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    from embedlab.stores import create_index, drop_index

    src = tmp_path_factory.mktemp("browser-src") / "news.jsonl"
    with open(src, "w") as f:
        for i in range(20):
            f.write(json.dumps({"title": news.titles[i], "text": news.texts[i]}) + "\n")
    create_index(INDEX, [src], minilm)
    yield INDEX
    drop_index(INDEX)


@pytest.mark.browser
def test_search_page(
    page: Any, live_server: str, browser_index: str, news: Any, test_output: Any
) -> None:
    page.goto(f"{live_server}/static/search.html")
    page.wait_for_selector(f"#index option[value='{browser_index}']", state="attached")
    page.select_option("#index", browser_index)
    page.fill("#query", news.titles[2])
    page.click("#go")
    page.wait_for_selector("#hits li[data-chunk]")
    first = page.inner_text("#hits li:first-child .title")
    assert news.titles[2] in first
    assert "bm25 #" in page.inner_text("#hits li:first-child .trace")
    page.wait_for_selector("#movement .main-svg")
    page.click("#measure")
    page.wait_for_selector("#costs tr:nth-child(3)")
    assert "binary" in page.inner_text("#costs")
    page.screenshot(path=str(test_output / "search-page.png"), full_page=True)
