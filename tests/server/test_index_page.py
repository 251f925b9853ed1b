"""The Index page in Chromium against the live server (real MiniLM): texts pasted into a new
index with progress streamed to the page, a file uploaded into it, the table's numbers
against the store's own count, its CSV export, and dropping the index."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from embedlab.stores import list_indexes, open_index

pytestmark = pytest.mark.browser
TIMEOUT = 120_000


def test_index_from_the_page_with_progress_update_csv_and_drop(
    page: Any, live_server: str, test_output: Path
) -> None:
    texts = [f"Recipe {i}: simmer the rice for {10 + i} minutes, then rest it." for i in range(120)]
    page.goto(live_server + "/static/indexes.html")
    page.wait_for_selector("#model option", state="attached")
    page.fill("#name", "h15-page")
    page.fill("#texts", "\n".join(texts))
    page.click("#create")
    page.wait_for_selector("#job[data-state='done']", timeout=TIMEOUT)
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    # progress came as it happened: several progress lines drawn before the end
    assert int(page.locator("#job").get_attribute("data-events")) >= 3
    assert page.locator("#job progress").evaluate("(b) => b.value") == 1
    stats = open_index("h15-page").stats()
    assert stats.chunks == len(texts)  # each pasted text is one short chunk
    result = page.locator("#result").text_content()
    assert f"{len(texts)} chunks embedded" in result and "Created h15-page" in result
    row = page.locator("#index-table tr[data-name='h15-page'] td")
    assert row.nth(4).text_content() == str(stats.chunks)
    assert row.nth(3).text_content() == str(stats.documents)
    assert float(row.nth(5).text_content()) == pytest.approx(stats.bytes_on_disk / 1024, abs=0.05)

    # add an uploaded file to it (the page reads it and sends its body)
    page.fill("#texts", "")
    page.set_input_files(
        "#files",
        files=[{"name": "tea.md", "mimeType": "text/markdown",
                "buffer": b"# Tea\n\nGreen tea steeps for two minutes."}],
    )  # fmt: skip
    page.click("#add")
    page.wait_for_function(
        "document.getElementById('result').textContent.startsWith('Updated h15-page')",
        timeout=TIMEOUT,
    )
    assert open_index("h15-page").stats().chunks == len(texts) + 1
    page.wait_for_function(
        f"document.querySelector(\"#index-table tr[data-name='h15-page'] td:nth-child(5)\")"
        f".textContent === '{len(texts) + 1}'"
    )

    # the table as CSV: the same cells
    with page.expect_download() as dl:
        page.locator("#index-table").locator("xpath=preceding-sibling::button[1]").click()
    rows = list(csv.reader(io.StringIO(Path(dl.value.path()).read_text())))
    assert rows[0][:5] == ["name", "model", "dims", "files", "chunks"]
    mine = next(r for r in rows if r[0] == "h15-page")
    assert mine[4] == str(len(texts) + 1) and mine[2] == "384" and mine[7] == "yes"
    page.screenshot(path=str(test_output / "index-page.png"), full_page=True)

    page.on("dialog", lambda d: d.accept())
    page.click("#index-table tr[data-name='h15-page'] button.drop")
    page.wait_for_selector("#index-table tr[data-name='h15-page']", state="detached")
    assert "h15-page" not in list_indexes()
