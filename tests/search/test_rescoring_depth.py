"""The rescoring depth of a quantized first stage (``candidates``): set from the CLI
(``--candidates``), the search API and the Search page, reported back as
``settings.rescore_depth``, and checked against the binary stage recomputed here with numpy
(sign bits, Hamming distance, float cosine rescoring of exactly that many rows)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from tests.conftest import run_async

INDEX = "rescoring-depth"
ROWS = 30
K = 5


def news_index(
    name: str, news: Any, minilm: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An index ``name`` of the first :data:`ROWS` news articles (title and text), made
    with minilm and dropped afterwards (the body of this module's and the Ask page's
    fixtures)."""
    from embedlab.stores import create_index, drop_index

    src = tmp_path_factory.mktemp(f"{name}-src") / "news.jsonl"
    with open(src, "w") as f:
        for i in range(ROWS):
            f.write(json.dumps({"title": news.titles[i], "text": news.texts[i]}) + "\n")
    create_index(name, [src], minilm)
    yield name
    drop_index(name)


@pytest.fixture(scope="module")
def depth_index(news: Any, minilm: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from news_index(INDEX, news, minilm, tmp_path_factory)


class Binary:
    """The binary first stage and its float rescoring, recomputed from the stored vectors."""

    def __init__(self, index: Any, query: str, encoder: Any) -> None:
        """``index``: a name (opened here) or an open index of any engine (its vectors are
        read back page by page)."""
        from embedlab.stores import open_index

        idx = open_index(index) if isinstance(index, str) else index
        self.index = idx
        pages = list(idx.iter_vectors(batch=4096))
        self.ids = np.concatenate([p[0] for p in pages])
        x = np.concatenate([p[1] for p in pages]).astype(np.float64)
        self.x = x / np.linalg.norm(x, axis=1, keepdims=True)
        q = np.asarray(encoder.embed(query, role="query")[0], dtype=np.float64)
        self.q = q / np.linalg.norm(q)
        self.hamming = ((self.x > 0) != (self.q > 0)).sum(axis=1)
        self.cosine = self.x @ self.q

    def clean_depth(self, lo: int, hi: int) -> int | None:
        """A depth in [lo, hi) whose last row is strictly closer (Hamming) than the next, so
        the first stage's top rows are one set whatever order ties take, and shallow enough
        that its top k differ from the exact top k (so a depth not applied shows)."""
        d = np.sort(self.hamming)
        exact = self.top(len(self.ids), K)
        for c in range(lo, hi):
            if d[c - 1] < d[c] and self.top(c, K) != exact:
                return c
        return None

    def top(self, depth: int, k: int) -> list[int]:
        """Chunk ids of the k best by cosine among the ``depth`` nearest by Hamming."""
        first = np.argsort(self.hamming, kind="stable")[:depth]
        best = first[np.argsort(-self.cosine[first], kind="stable")[:k]]
        return [int(self.ids[i]) for i in best]

    def row(self, chunk_id: int) -> int:
        return int(np.flatnonzero(self.ids == chunk_id)[0])


def telling(
    index: str, news: Any, minilm: Any, start: int, lo: int, hi: int
) -> tuple[str, Binary, int]:
    """The first title from ``start`` on with a :meth:`Binary.clean_depth` in [lo, hi)."""
    for i in range(start, start + ROWS):
        query = news.titles[i % ROWS]
        ref = Binary(index, query, minilm)
        depth = ref.clean_depth(lo, hi)
        if depth is not None:
            return query, ref, depth
    raise AssertionError("no title whose binary top k depends on the depth")


def _check_hits(result: dict[str, Any], ref: Binary, depth: int) -> None:
    """The hits are the k best by float cosine among exactly ``depth`` first-stage rows, with
    the scores and the first-stage ranks that implies."""
    hits = result["hits"]
    ids = [h["chunk"]["id"] for h in hits]
    assert ids == ref.top(depth, len(hits))
    rows = [ref.row(i) for i in ids]
    np.testing.assert_allclose([h["score"] for h in hits], ref.cosine[rows], atol=1e-4)
    for h, r in zip(hits, rows, strict=True):
        first = h["stages"]["dense_first"]
        assert first["score"] == pytest.approx(-float(ref.hamming[r]))  # -Hamming distance
        assert 1 <= first["rank"] <= depth
        # its rank among all rows by Hamming: ties may fall either way, nothing else
        assert (ref.hamming < ref.hamming[r]).sum() < first["rank"]
        assert first["rank"] <= (ref.hamming <= ref.hamming[r]).sum()


def test_cli_candidates_sets_and_reports_the_depth(
    depth_index: str, news: Any, minilm: Any
) -> None:
    query, ref, shallow = telling(depth_index, news, minilm, 3, K + 3, ROWS - 5)
    runner = CliRunner()
    d = np.sort(ref.hamming)
    for depth in [K, shallow] if d[K - 1] < d[K] else [shallow]:  # k itself when no tie there
        args = ["search", depth_index, query, "-k", str(K), "--quantize", "binary"]
        out = runner.invoke(cli, [*args, "--candidates", str(depth), "--json"])
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        assert data["settings"]["rescore_depth"] == depth
        assert data["settings"]["rescore_depth_asked"] == depth
        _check_hits(data, ref, depth)
    # the default depth (at least 100) covers every one of the 30 rows: exact float top k
    out = runner.invoke(cli, [*args, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["settings"]["rescore_depth"] == ROWS
    assert data["settings"]["rescore_depth_asked"] is None
    assert [h["chunk"]["id"] for h in data["hits"]] == ref.top(ROWS, K)
    out = runner.invoke(cli, [*args, "--candidates", "9", "--explain"])
    assert out.exit_code == 0, out.output
    assert "rescoring depth: 9 first-stage rows" in out.output
    # a float stage rescoring nothing reports no depth
    out = runner.invoke(cli, ["search", depth_index, query, "-k", str(K), "--json"])
    assert json.loads(out.stdout)["settings"]["rescore_depth"] is None


def test_cli_refuses_a_bad_depth(depth_index: str) -> None:
    runner = CliRunner()
    for args, needle in [
        (["-k", "5", "--quantize", "binary", "--candidates", "4"], "must be at least k = 5, got 4"),
        (["--quantize", "int8", "--candidates", "0"], "must be at least k = 10, got 0"),
        (["--candidates", "50"], "needs a dims or quantize first stage"),
    ]:
        out = runner.invoke(cli, ["search", depth_index, "x", *args])
        assert out.exit_code == 1, out.output
        assert needle in out.output
        assert "Traceback" not in out.output


def _client() -> Any:
    import httpx

    from embedlab.server.app import create_app

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app()), base_url="http://127.0.0.1"
    )


def test_search_route_candidates(depth_index: str, news: Any, minilm: Any) -> None:
    query, ref, depth = telling(depth_index, news, minilm, 11, K + 2, ROWS - 3)
    body = {"index": depth_index, "query": query, "k": K, "mode": "dense", "quantize": "binary"}

    async def calls() -> list[Any]:
        async with _client() as client:
            bodies = [
                {**body, "candidates": depth},
                {**body, "mode": "hybrid", "candidates": depth},
                {**body, "quantize": "int8", "candidates": 7},
                {**body, "candidates": 3},
                {**body, "quantize": None, "candidates": 20},
                {**body, "candidates": 3, "index": "no-such-index"},
            ]
            return [await client.post("/lab/search", json=b) for b in bodies]

    good, hybrid, int8, low, plain, missing = run_async(calls)
    assert good.status_code == 200, good.text
    result = good.json()["result"]
    assert result["settings"]["rescore_depth"] == depth
    _check_hits(result, ref, depth)
    # hybrid: the dense stage returns 100 rows (here all 30), so all are rescored
    assert hybrid.status_code == 200, hybrid.text
    assert hybrid.json()["result"]["settings"]["rescore_depth"] == ROWS
    assert int8.status_code == 200, int8.text
    got = int8.json()["result"]
    assert got["settings"]["rescore_depth"] == 7
    assert all(1 <= h["stages"]["dense_first"]["rank"] <= 7 for h in got["hits"])
    for bad, needle in [
        (low, "must be at least k = 5, got 3"),
        (plain, "needs a dims or quantize first stage"),
        (missing, "must be at least k = 5, got 3"),  # refused before the index is opened
    ]:
        assert bad.status_code == 400, bad.text
        err = bad.json()["error"]
        assert err["type"] == "InputError" and needle in err["message"]


@pytest.mark.browser
def test_search_page_depth_control(
    page: Any, live_server: str, depth_index: str, news: Any, minilm: Any, test_output: Any
) -> None:
    query, ref, depth = telling(depth_index, news, minilm, 17, K + 1, ROWS - 4)
    page.goto(f"{live_server}/static/search.html")
    page.wait_for_selector(f"#index option[value='{depth_index}']", state="attached")
    page.select_option("#index", depth_index)
    assert page.is_disabled("#candidates")  # float32 over all dims: nothing to rescore
    page.uncheck("#use-bm25")
    page.fill("#query", query)
    page.fill("#k", str(K))
    page.select_option("#quantize", "binary")
    assert page.is_enabled("#candidates")
    page.fill("#candidates", str(depth))
    page.click("#go")
    page.wait_for_selector("#hits li[data-chunk]")
    page.wait_for_selector("#stage:not([hidden])")
    text = page.inner_text("#stage")
    m = re.fullmatch(
        r"First stage binary: (\d+) of (\d+) rows rescored with the full float32 vectors "
        r"\(rescoring depth; asked (\d+)\)\.",
        text.strip(),
    )
    assert m, text
    assert [int(g) for g in m.groups()] == [depth, ROWS, depth]
    shown = [
        int(x) for x in page.eval_on_selector_all("#hits li", "ls => ls.map(l => l.dataset.chunk)")
    ]
    assert shown == ref.top(depth, K)
    traces = page.eval_on_selector_all("#hits li .trace", "ts => ts.map(t => t.textContent)")
    for chunk_id, trace in zip(shown, traces, strict=True):
        score = float(re.match(r"score (-?[\d.]+)", trace).group(1))  # type: ignore[union-attr]
        assert score == pytest.approx(ref.cosine[ref.row(chunk_id)], abs=1e-4)
        first = int(re.search(r"dense_first #(\d+)", trace).group(1))  # type: ignore[union-attr]
        h = ref.hamming[ref.row(chunk_id)]  # its Hamming rank among all rows, ties either way
        assert (ref.hamming < h).sum() < first <= min(depth, (ref.hamming <= h).sum())
    dense = [int(re.search(r"dense #(\d+)", t).group(1)) for t in traces]  # type: ignore[union-attr]
    assert dense == list(range(1, K + 1))
    page.screenshot(path=str(test_output / "search-rescoring-depth.png"), full_page=True)
    # left empty: the stage's default, which covers all 30 rows here
    page.fill("#candidates", "")
    page.click("#go")
    page.wait_for_function(
        "() => document.querySelector('#stage').textContent.includes(\"the stage's default\")"
    )
    assert page.inner_text("#stage").startswith(f"First stage binary: {ROWS} of {ROWS} rows")
    shown = [
        int(x) for x in page.eval_on_selector_all("#hits li", "ls => ls.map(l => l.dataset.chunk)")
    ]
    assert shown == ref.top(ROWS, K)
    # below k: refused with the core's message, no stale results left
    page.fill("#candidates", str(K - 1))
    page.click("#go")
    page.wait_for_selector("#error:not([hidden])")
    assert f"must be at least k = {K}, got {K - 1}" in page.inner_text("#error")
    assert page.locator("#hits li[data-chunk]").count() == 0
    assert page.is_hidden("#stage")
