"""The Index page says how a dense query runs on each index (``IndexStats.dense_search``, as
``embedlab index info`` does): the JSON route passes the core's dict, and the page draws an
exact-scan line below the ANN threshold and an IVF line (lists, nprobe, file, drift) above it.

The live server runs in a thread of the test process, so lowering the threshold with
monkeypatch reaches it: the IVF line is checked in Chromium on a real IVF file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import faiss
import httpx
import pytest

from embedlab.data import news_articles
from embedlab.models import Encoder
from embedlab.stores import ann, create_index, dense, drop_index, open_index, update_index

TIMEOUT = 120_000


def _write(folder: Path, texts: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, t in enumerate(texts):
        (folder / f"t{i:03d}.txt").write_text(t + "\n")
    return folder


@pytest.fixture
def small_index(minilm: Encoder, tmp_path: Path) -> Iterator[str]:
    """A three-chunk index in the session home (the live server's too), dropped after."""
    texts = ["Green tea steeps for two minutes.", "The cat sat on the mat.", "Rice rests."]
    create_index("dense-small", [_write(tmp_path / "small", texts)], minilm)
    yield "dense-small"
    drop_index("dense-small")


def test_the_route_passes_the_cores_dense_search(
    small_index: str, req: Callable[..., httpx.Response]
) -> None:
    r = req("GET", "/lab/indexes")
    assert r.status_code == 200, r.text
    row = next(x for x in r.json()["indexes"] if x["name"] == small_index)
    expected = open_index(small_index).stats().dense_search
    assert row["dense_search"] == expected
    assert expected == {"method": "exact", "ann_threshold": dense.ANN_THRESHOLD}


def _cell(page: Any, live_server: str, name: str) -> str:
    page.goto(live_server + "/static/indexes.html")
    cell = page.locator(f"#index-table tr[data-name='{name}'] td.dense")
    cell.wait_for(timeout=TIMEOUT)
    return str(cell.text_content())


@pytest.mark.browser
def test_the_page_shows_an_exact_scan_below_the_threshold(
    small_index: str, page: Any, live_server: str
) -> None:
    text = _cell(page, live_server, small_index)
    assert text == f"exact scan (IVF from {dense.ANN_THRESHOLD:,} chunks)"
    header = page.locator("#index-table thead th").nth(8).text_content()
    assert header == "dense search"


@pytest.mark.browser
def test_the_page_says_when_the_ivf_file_is_not_built_yet(
    small_index: str, page: Any, live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the threshold (2 here) with no file yet: reading the stats builds nothing."""
    monkeypatch.setattr(dense, "ANN_THRESHOLD", 2)
    assert open_index(small_index).stats().dense_search == {
        "method": "ivf",
        "ann_threshold": 2,
        "ann": {"file": None},
    }
    text = _cell(page, live_server, small_index)
    assert text == "IVF, not built yet (the next update or the first query builds it)"
    assert not list((open_index(small_index).folder / "ann").glob("gen-*.faiss"))


@pytest.mark.browser
def test_the_page_shows_the_ivf_file_above_the_threshold(
    minilm: Encoder,
    tmp_path: Path,
    page: Any,
    live_server: str,
    monkeypatch: pytest.MonkeyPatch,
    test_output: Path,
) -> None:
    """Threshold 10: create builds the IVF file, an update past the delta writes the next
    generation's (``updated``, rows added since training, so a drift); the line is checked against the
    file and its state read here."""
    monkeypatch.setattr(dense, "ANN_THRESHOLD", 10)
    articles = [f"{a.title}\n\n{a.text}" for a in news_articles(limit=45)]
    docs = _write(tmp_path / "docs", articles[:30])
    name = "dense-ivf"
    create_index(name, [docs], minilm)
    try:
        _write(docs, articles)
        update_index(name, minilm)
        # drift is told from 1,000 added rows on; fewer here, so after the update (which
        # must not retrain) it is read from 5 on, to show a number that is not 0
        monkeypatch.setattr(ann, "MIN_DRIFT_ROWS", 5)
        index = open_index(name)
        g = index.generation
        folder = index.folder / "ann"
        state = json.loads((folder / f"gen-{g}.json").read_text())
        ivf = faiss.extract_index_ivf(faiss.read_index(str(folder / f"gen-{g}.faiss")))
        added = state["added"]
        drift = (
            state["added_distance"] / added / state["train_distance"] - 1.0
            if added >= 5 and state["train_distance"] > 0
            else 0.0
        )
        assert index.stats().dense_search["method"] == "ivf"
        text = _cell(page, live_server, name)
        page.screenshot(path=str(test_output / "index-page-dense.png"), full_page=True)
        assert text == (
            f"IVF: {ivf.nlist:,} lists, nprobe {state['nprobe']}, gen-{g}.faiss current "
            f"({state['how']}), drift {round(drift, 4) * 100:.1f} % since training on "
            f"{state['n_trained']:,} rows"
        )
        assert (
            drift != 0.0
            and state["how"] == "updated"
            and state["n_trained"] + added == len(index.chunk_ids())
        )
    finally:
        drop_index(name)
