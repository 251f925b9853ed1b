"""The grid's rescoring depth (``run_grid(candidates=...)``, ``eval retrieval --candidates``)
is the search's: a rescored binary configuration ranks exactly as ``search(...,
candidates=N)`` does on the same vectors, and a depth the search refuses is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.errors import InputError
from embedlab.evaluate.cache import embed_cached
from embedlab.evaluate.grid import run_grid
from embedlab.evaluate.make import make_news_dataset
from embedlab.search.memory import MemoryIndex
from embedlab.stores.base import Chunk
from tests.evaluate.conftest import CHARS, N_ARTICLES
from tests.evaluate.test_grid_equals_search import K, _subset, _through_search

DEPTH = 12  # of 150 documents: shallow enough to change the top 10 of some titles


def test_grid_depth_ranks_as_search_does(news_run: Any, minilm: Any) -> None:
    ds = _subset(news_run.dataset, 30)
    texts = ds.doc_texts()
    docs = embed_cached(minilm, texts, "document").vectors
    qv = embed_cached(minilm, list(ds.judged_queries.values()), "query").vectors
    chunks = [
        Chunk(id=i, doc_id=i, text=t, source=f"news:{i}", position={"record": i})
        for i, t in enumerate(texts)
    ]
    index = MemoryIndex("grid-depth", chunks, docs, minilm.info.to_dict())
    grids = {
        c: run_grid(
            ds,
            [minilm],
            ["dense"],
            [384],
            ["binary"],
            k=K,
            rescore=True,
            candidates=c,
            latency_sample=1,
        )  # fmt: skip
        for c in (DEPTH, None)
    }
    for c, grid in grids.items():
        ranked, scores = _through_search(index, ds, qv, minilm, quantize="binary", candidates=c)
        assert grid.results[0].ranked == ranked, c
        assert grid.results[0].scores == scores, c
    assert grids[DEPTH].results[0].ranked != grids[None].results[0].ranked  # the depth acts
    with pytest.raises(InputError, match="rescoring is off"):
        run_grid(ds, [minilm], ["dense"], None, ["binary"], k=K, candidates=DEPTH)
    with pytest.raises(InputError, match=f"at least k = {K}, got 5"):
        run_grid(ds, [minilm], ["dense"], None, ["int8"], k=K, rescore=True, candidates=5)


def test_cli_eval_candidates(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    make_news_dataset(folder, limit=N_ARTICLES, chars=CHARS)  # the cached vectors' texts
    runner = CliRunner()
    base = ["eval", "retrieval", str(folder), "--modes", "dense", "--quantize", "none,binary"]
    out = tmp_path / "grid.json"
    res = runner.invoke(cli, [*base, "--rescore", "--candidates", str(DEPTH), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert len(json.loads(out.read_text())["rows"]) == 2  # float and binary
    for extra, needle in [
        (["--candidates", "20"], "rescoring is off: turn it on (--rescore)"),
        (["--rescore", "--candidates", "3"], "at least k = 10, got 3"),
    ]:
        res = runner.invoke(cli, [*base, *extra])
        assert res.exit_code == 1 and needle in res.output, res.output
        assert "Traceback" not in res.output
