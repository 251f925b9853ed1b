"""The Ask page's rescoring depth box in a real Chromium against the live server: disabled
until a Matryoshka cut or an int8/binary first stage is chosen, sent as ``candidates``, and
the depth used shown in the retrieval step; the hits, scores, first-stage ranks and moves the
page shows are checked against the binary stage recomputed here with numpy (sign bits,
Hamming distance, float cosine rescoring of exactly that many rows). Answered by the bundled
local chat model, a few tokens long. Screenshot: test-output/ask-rescoring-depth.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.search.test_rescoring_depth import Binary, news_index, telling

pytestmark = pytest.mark.browser

INDEX = "ask-rescoring-depth"
ROWS = 30
K = 5
TIMEOUT = 240_000


@pytest.fixture(scope="module")
def ask_index(news: Any, minilm: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from news_index(INDEX, news, minilm, tmp_path_factory)


def _ask(page: Any) -> None:
    page.click("#go")
    page.wait_for_selector("#step-answer.done", timeout=TIMEOUT)
    assert page.locator("#error").is_hidden(), page.inner_text("#error")


def _check_table(page: Any, ref: Binary, depth: int) -> list[int]:
    """The hits table: chunk ids, scores, first-stage and dense ranks and the moves, each
    against ``ref`` and ``depth``; returns the chunk ids shown."""
    header = page.eval_on_selector_all("#hits tr th", "ts => ts.map(t => t.textContent)")
    assert header == ["#", "chunk", "score", "dense_first", "dense", "moved"]
    rows = page.eval_on_selector_all(
        "#hits tr[data-chunk]",
        "rs => rs.map(r => [r.dataset.chunk, ...[...r.cells].map(c => c.textContent)])",
    )
    shown = [int(r[0]) for r in rows]
    assert shown == ref.top(depth, K)  # the k best by cosine among the `depth` nearest by Hamming
    for rank, (chunk, pos, _title, score, first, dense, moved) in enumerate(rows, start=1):
        row = ref.row(int(chunk))
        assert int(pos) == rank and dense == f"#{rank}"
        assert float(score) == pytest.approx(ref.cosine[row], abs=1e-4)
        first_rank = int(first.lstrip("#"))
        h = ref.hamming[row]  # its Hamming rank among all rows: ties may fall either way
        assert (ref.hamming < h).sum() < first_rank <= min(depth, (ref.hamming <= h).sum())
        d = first_rank - rank
        assert moved == ("=" if d == 0 else ("▲" if d > 0 else "▼") + str(abs(d)))
    return shown


def test_ask_page_depth_control(
    page: Any,
    live_server: str,
    ask_index: str,
    news: Any,
    minilm: Any,
    chat_local: Any,
    test_output: Any,
) -> None:
    from embedlab.stores import open_index

    rows = len(open_index(ask_index).chunk_ids())
    assert rows == ROWS  # one chunk a short record
    query, ref, depth = telling(ask_index, news, minilm, 5, K + 1, ROWS - 4)
    page.goto(f"{live_server}/static/ask.html")
    page.wait_for_selector(f"#index option[value='{ask_index}']", state="attached")
    page.wait_for_selector("#chat option[value='local']", state="attached")
    page.select_option("#index", ask_index)
    assert page.is_disabled("#candidates")  # float32 over all dims: nothing to rescore
    page.select_option("#dims", "128")
    assert page.is_enabled("#candidates")
    page.select_option("#dims", "")
    assert page.is_disabled("#candidates")
    page.select_option("#quantize", "binary")
    assert page.is_enabled("#candidates")
    page.select_option("#chat", "local")
    page.select_option("#mode", "dense")
    page.fill("#question", query)
    page.fill("#k", str(K))
    page.fill("#max-tokens", "4")
    page.fill("#candidates", str(depth))
    _ask(page)
    text = page.inner_text("#search-depth").strip()
    m = re.fullmatch(
        r"First stage binary: (\d+) of (\d+) rows rescored with the full float32 vectors "
        r"\(rescoring depth; asked (\d+)\)\.",
        text,
    )
    assert m, text
    assert [int(g) for g in m.groups()] == [depth, rows, depth]
    shown = _check_table(page, ref, depth)
    # the prompt's sources are the hits shown, in order
    sources = page.eval_on_selector_all("#sources li", "ls => ls.map(l => l.dataset.chunk)")
    assert [int(s) for s in sources] == shown[: len(sources)] and sources
    page.screenshot(path=str(test_output / "ask-rescoring-depth.png"), full_page=True)

    # left empty: the stage's default (at least 100), which covers all 30 rows here
    page.fill("#candidates", "")
    _ask(page)
    page.wait_for_selector("#search-depth:not([hidden])")
    assert page.inner_text("#search-depth").strip() == (
        f"First stage binary: {rows} of {rows} rows rescored with the full float32 vectors "
        "(rescoring depth; the stage's default)."
    )
    _check_table(page, ref, rows)

    # back to float32: the box is disabled, nothing is rescored and no depth line is shown
    page.fill("#candidates", str(depth))
    page.select_option("#quantize", "")
    assert page.is_disabled("#candidates")
    _ask(page)
    assert page.is_hidden("#search-depth")
    header = page.eval_on_selector_all("#hits tr th", "ts => ts.map(t => t.textContent)")
    assert "dense_first" not in header

    # below k: refused with the core's message
    page.select_option("#quantize", "binary")
    page.fill("#candidates", str(K - 1))
    page.click("#go")
    page.wait_for_selector("#error:not([hidden])")
    assert f"must be at least k = {K}, got {K - 1}" in page.inner_text("#error")
