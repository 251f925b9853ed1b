"""Faults: SIGKILL a real indexing process, a second writer, a reader during an update."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from embedlab.errors import IndexLockedError
from embedlab.models import Encoder
from embedlab.stores import EmbeddedIndex, open_index, update_index
from embedlab.stores.embedded import DB_NAME, LOCK_NAME, SEGMENTS, index_folder
from embedlab.stores.lock import WriteLock
from tests.stores.store_helpers import NewsCorpus, wait_for

#: a real indexing process that commits after every document (so a kill lands mid-way).
INDEXER = """
import sys, time
from embedlab.models import load_model
from embedlab.stores import writer, create_index
writer.COMMIT_ROWS = 1
writer.COMMIT_SECONDS = 0.0
encoder = load_model("minilm")
real = encoder._embed
def slower(texts, role):  # widens the window, so the kill lands mid-run on a quiet machine
    time.sleep(0.5)
    return real(texts, role)
encoder._embed = slower
create_index(sys.argv[1], [sys.argv[2]], encoder)
"""


def _committed_docs(name: str) -> int:
    db = index_folder(name) / DB_NAME
    if not db.exists():
        return -1
    conn = sqlite3.connect(db, timeout=30)
    try:
        row = conn.execute("SELECT count(*) FROM documents WHERE complete=1").fetchone()
        return int(row[0])
    except sqlite3.OperationalError:  # the writer has not created the tables yet
        return -1
    finally:
        conn.close()


def _key(c: object) -> tuple[str, int, int, str]:
    return (c.source, c.position["record"], c.position["chunk"], c.text)  # type: ignore[attr-defined]


def _rows_by_key(index: EmbeddedIndex) -> dict[tuple[str, int, int, str], np.ndarray]:
    """Each chunk's vector, read through the aligned views, keyed by where the chunk is."""
    ids, vecs = index.chunk_ids(), index.vectors()
    assert len(ids) == len(vecs) == len(index.texts())
    assert len(set(ids.tolist())) == len(ids), "duplicate chunk ids"
    chunks = index.get_chunks(ids)
    assert [c.text for c in chunks] == index.texts()
    keys = [_key(c) for c in chunks]
    assert len(set(keys)) == len(keys), "a chunk is stored twice"
    return {k: vecs[i] for i, k in enumerate(keys)}


def _assert_consistent(index: EmbeddedIndex, clean: EmbeddedIndex) -> None:
    """Every stored chunk is a chunk of the clean build, with the same vector, docs whole."""
    got, ref = _rows_by_key(index), _rows_by_key(clean)
    assert set(got) <= set(ref)
    for k, v in got.items():
        np.testing.assert_allclose(v, ref[k], atol=1e-4)
    per_doc: dict[str, int] = {}
    for k in got:
        per_doc[k[0]] = per_doc.get(k[0], 0) + 1
    ref_doc: dict[str, int] = {}
    for k in ref:
        ref_doc[k[0]] = ref_doc.get(k[0], 0) + 1
    assert all(per_doc[s] == ref_doc[s] for s in per_doc), "a document is half indexed"


@pytest.mark.slow
def test_sigkill_mid_indexing_then_update_finishes(
    minilm: Encoder, news_corpus: NewsCorpus, embedlab_home: Path
) -> None:
    name = "killed"
    env = {**os.environ, "EMBEDLAB_HOME": str(embedlab_home)}
    proc = subprocess.Popen(
        [sys.executable, "-c", INDEXER, name, str(news_corpus.folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(proc, lambda: _committed_docs(name) >= 2, 240, "the indexer made no progress")
        # while it writes: a second writer is refused, a reader reads a consistent snapshot
        with pytest.raises(IndexLockedError, match=rf"'{name}' is being written.*pid {proc.pid}"):
            update_index(name, minilm, wait=0.2)
        reader = open_index(name)
        gen = reader.generation
        _assert_consistent(reader, news_corpus.clean)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    index = open_index(name)
    done = index.stats().documents
    assert 0 < done < len(news_corpus.files), "the kill did not land mid-way"
    _assert_consistent(index, news_corpus.clean)

    report = update_index(name, minilm)
    assert index.generation > gen  # reading the generation refreshes the snapshot
    assert report.files_indexed == len(news_corpus.files) - done
    assert report.files_unchanged == done
    final = _rows_by_key(index)
    ref = _rows_by_key(news_corpus.clean)
    assert sorted(final) == sorted(ref)  # nothing lost, nothing twice
    for k, v in final.items():
        np.testing.assert_allclose(v, ref[k], atol=1e-4)
    # no orphan segment files are left behind
    conn = sqlite3.connect(index_folder(name) / DB_NAME)
    known = {f for (f,) in conn.execute("SELECT file FROM segments")}
    conn.close()
    assert {p.name for p in (index_folder(name) / SEGMENTS).iterdir()} == known


def test_second_writer_is_refused_and_readers_keep_reading(
    minilm: Encoder, news_corpus: NewsCorpus
) -> None:
    name = news_corpus.clean.name
    before = news_corpus.clean.generation
    with WriteLock(index_folder(name) / LOCK_NAME, name):  # another writer holds the index
        t0 = time.monotonic()
        with pytest.raises(IndexLockedError) as err:
            update_index(name, minilm, wait=0.5)
        assert time.monotonic() - t0 >= 0.5  # it waited before giving up
        assert "is being written by another process" in str(err.value)
        assert f"pid {os.getpid()}" in str(err.value) and "try again" in str(err.value)
        reader = open_index(name)  # readers never need the lock
        assert len(reader.vectors()) == len(reader.texts()) > 0
    assert update_index(name, minilm).files_unchanged == len(news_corpus.files)
    assert news_corpus.clean.generation == before


def test_reader_snapshot_survives_an_update(minilm: Encoder, tmp_path: Path) -> None:
    from embedlab.stores import create_index

    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "a.txt").write_text("Cats sleep most of the day.", encoding="utf-8")
    (folder / "b.txt").write_text("Rockets need fuel to reach orbit.", encoding="utf-8")
    reader = create_index("snap", [folder], minilm)
    g1, ids1, vecs1 = reader.generation, reader.chunk_ids(), reader.vectors()
    (folder / "a.txt").unlink()
    (folder / "c.txt").write_text("Bread dough rises when it rests.", encoding="utf-8")
    update_index("snap", minilm)
    # the old snapshot stays valid until the reader asks for the generation again
    assert np.array_equal(reader.chunk_ids(), ids1) and np.array_equal(reader.vectors(), vecs1)
    assert reader.generation > g1
    assert sorted(reader.texts()) == [
        "Bread dough rises when it rests.",
        "Rockets need fuel to reach orbit.",
    ]
    np.testing.assert_allclose(reader.vectors(), minilm.embed(reader.texts()), atol=1e-5)
