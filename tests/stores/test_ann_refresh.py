"""The ANN file is kept current by the command that changed the index (issue 17): a create
or update of an index searched by ANN writes the file of the new generation, so the first
query after it opens the file instead of updating it; while a builder holds the cache lock
a reader serves the older file plus its delta (exact on the delta) instead of waiting."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from benchmarks.store import add_chunks, make_index

from embedlab.data import news_articles
from embedlab.models import Encoder
from embedlab.stores import ann, cache, create_index, dense, local, open_index, update_index
from embedlab.stores.base import FirstStage

D = 32


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path / "home"))
    return tmp_path


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "ann").glob("gen-*.faiss"))


def _write(folder: Path, articles: list[Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, a in enumerate(articles):
        (folder / f"a{i:03d}.txt").write_text(f"{a.title}\n\n{a.text}\n")


def test_create_and_update_write_the_ann_file(
    home: Path, minilm: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the ANN threshold at 10 chunks: create builds the file, an update past the
    delta writes the new generation's, and the first query after it builds nothing."""
    monkeypatch.setattr(dense, "ANN_THRESHOLD", 10)
    articles = news_articles(limit=45)
    docs = home / "docs"
    _write(docs, articles[:30])
    index = create_index("fresh", [docs], minilm)
    g1 = index.generation
    assert _files(index.folder) == [f"gen-{g1}.faiss"]  # built by create, not by a query
    state = json.loads((index.folder / "ann" / f"gen-{g1}.json").read_text())
    assert state["how"] == "built" and state["n_trained"] == len(index.chunk_ids())
    assert index.report.ann == "built" and 0 < index.report.ann_seconds <= index.report.seconds

    _write(docs, articles[:45])  # 15 more files: past 5 % of the rows, not doubled
    report = update_index("fresh", minilm)
    assert report.ann == "updated"
    reopened = open_index("fresh")
    g2 = reopened.generation
    assert g2 != g1 and _files(reopened.folder) == [f"gen-{g2}.faiss"]
    held = np.load(reopened.folder / "ann" / f"gen-{g2}.ids.npy")
    assert np.array_equal(held, reopened.chunk_ids())

    def no_build(*_: Any) -> Any:
        raise AssertionError("the first query after the update rebuilt the ANN file")

    monkeypatch.setattr(ann, "update", no_build)
    monkeypatch.setattr(ann, "build", no_build)
    cache.clear()
    local.clear()
    q = minilm.embed([articles[40].title], role="query")
    hits = reopened.search(q, 5, stage=FirstStage(exact=False))
    exact = reopened.search(q, 5, stage=FirstStage(exact=True))
    assert hits.method == "ann" and hits.ids[0, 0] == exact.ids[0, 0]


def _vectors(start: int, stop: int) -> np.ndarray:
    centres = np.random.default_rng(5).standard_normal((40, D)).astype(np.float32)
    rng = np.random.default_rng(start + 17)
    x = centres[rng.integers(0, 40, stop - start)] + rng.standard_normal((stop - start, D)) * 0.4
    return x.astype(np.float32)


def test_a_reader_serves_the_old_file_while_a_builder_holds_the_lock(home: Path) -> None:
    make_index("busy", 3000, D, vectors=_vectors)
    index = open_index("busy")
    q = _vectors(9000, 9010)
    index.search(q, 10, stage=FirstStage(exact=False))
    g1 = index.generation
    shown = ann.describe(index.folder, g1, index.chunk_ids())
    import faiss

    on_disk = faiss.read_index(str(index.folder / "ann" / f"gen-{g1}.faiss"))
    assert shown["file"] == f"gen-{g1}.faiss" and shown["current"] and shown["delta_rows"] == 0
    state = json.loads((index.folder / "ann" / f"gen-{g1}.json").read_text())
    assert shown["lists"] == faiss.extract_index_ivf(on_disk).nlist
    assert shown["nprobe"] == state["nprobe"]
    assert shown["trained_rows"] == 3000 and shown["how"] == "built"
    new = _vectors(3000, 3600)
    add_chunks("busy", new)  # 20 %: past the delta a reader serves alone
    later = ann.describe(index.folder, index.generation, index.chunk_ids())
    assert not later["current"] and later["delta_rows"] == 600
    fd = os.open(index.folder / "ann" / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a builder at work
    try:
        cache.clear()
        local.clear()
        probe = np.vstack([q, new[:3]])
        hits = index.search(probe, 10, stage=FirstStage(exact=False))
        assert _files(index.folder) == [f"gen-{g1}.faiss"]  # nothing written, no wait
        assert hits.ids[10:, 0].tolist() == index.chunk_ids()[3000:3003].tolist()
        dense = cache.cached_dense(index, index.generation)
        assert len(dense._cache["ann_added"]) == 600  # the delta, scanned exactly
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    cache.clear()
    local.clear()
    assert cache.refresh_ann(index) is None  # 3,600 rows: below the ANN threshold


def test_the_cli_says_what_the_ann_step_did(
    home: Path, minilm: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from embedlab.cli.main import cli

    monkeypatch.setattr(dense, "ANN_THRESHOLD", 10)
    docs = home / "cli-docs"
    _write(docs, news_articles(limit=20))
    res = CliRunner().invoke(cli, ["index", "create", "clidx", str(docs), "--model", "minilm"])
    assert res.exit_code == 0, res.output
    assert "ANN index (FAISS IVF): bringing it up to date for" in res.output
    assert "ANN index (FAISS IVF) built in" in res.output
    again = CliRunner().invoke(cli, ["index", "update", "clidx"])
    assert again.exit_code == 0 and "ANN index" not in again.output  # nothing changed
    import faiss

    index = open_index("clidx")
    g = index.generation
    whole = faiss.read_index(str(index.folder / "ann" / f"gen-{g}.faiss"))
    on_disk = faiss.extract_index_ivf(whole)
    nprobe = json.loads((index.folder / "ann" / f"gen-{g}.json").read_text())["nprobe"]
    info = CliRunner().invoke(cli, ["index", "info", "clidx"])
    assert f"IVF: {on_disk.nlist:,} lists, nprobe {nprobe}; gen-{g}.faiss (built, current" in (
        info.output
    )
    monkeypatch.setattr(dense, "ANN_THRESHOLD", 50_000)
    shown = json.loads(CliRunner().invoke(cli, ["index", "info", "clidx", "--json"]).output)
    assert shown["dense_search"] == {"method": "exact", "ann_threshold": 50_000}
