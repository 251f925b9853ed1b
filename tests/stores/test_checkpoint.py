"""Big files are checkpointed: a run killed inside a file resumes there, embedding only the rest."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embedlab.data import news_articles
from embedlab.models import Encoder
from embedlab.stores import (
    EmbeddedIndex,
    check_index,
    create_index,
    drop_index,
    ingest,
    open_index,
    update_index,
    writer,
)
from embedlab.stores.chunking import ChunkSettings
from embedlab.stores.embedded import DB_NAME, index_folder
from tests.stores.store_helpers import CountingEncoder, make_pdf, wait_for

#: small chunks and blocks: a few KB of real text make a file of many records and chunks.
CHUNKING = ChunkSettings("tokens", 40, 8)
BLOCK = 600
CHECKPOINT = 6

#: a real indexing process with a slow encoder, so the kill lands after a checkpoint and
#: well before the end of the file.
INDEXER = """
import sys, time
from embedlab.models import load_model
from embedlab.stores import create_index, ingest, writer
from embedlab.stores.chunking import ChunkSettings
writer.CHECKPOINT_CHUNKS = int(sys.argv[3])
writer.EMBED_BATCH = 4
ingest.BLOCK_CHARS = int(sys.argv[4])
encoder = load_model("minilm")
real = encoder._embed
def slower(texts, role):
    time.sleep(0.5)
    return real(texts, role)
encoder._embed = slower
create_index(sys.argv[1], [sys.argv[2]], encoder, chunking=ChunkSettings("tokens", 40, 8))
"""


def _rows(index: EmbeddedIndex) -> list[tuple[Any, ...]]:
    """Every chunk as (record, chunk, start, end, text, title, metadata), sorted."""
    ids = index.chunk_ids()
    assert len(set(ids.tolist())) == len(ids) == len(index.texts())
    return sorted(
        (c.position["record"], c.position["chunk"], c.position["start"], c.position["end"],
         c.text, c.title, json.dumps(c.metadata, sort_keys=True))
        for c in index.get_chunks([int(i) for i in ids])
    )  # fmt: skip


def _checkpointed(name: str) -> int:
    """Chunks the indexing process has committed at a checkpoint (-1 before its tables)."""
    db = index_folder(name) / DB_NAME
    if not db.exists():
        return -1
    conn = sqlite3.connect(db, timeout=30)
    try:
        return int(conn.execute("SELECT max(done_chunks) FROM documents").fetchone()[0] or 0)
    except sqlite3.OperationalError:  # the writer has not created the tables yet
        return -1
    finally:
        conn.close()


def _assert_resumed_like_clean(
    name: str, clean: EmbeddedIndex, killed_texts: set[str], report: writer.WriteReport
) -> None:
    """The finished index holds the clean build's chunks, each once, with its vectors; the
    update embedded only the texts the interrupted run had not committed."""
    index = open_index(name)
    assert _rows(index) == _rows(clean)  # same texts, same places, same count: none twice
    vec = dict(zip(index.texts(), index.vectors(), strict=True))
    for t, v in zip(clean.texts(), clean.vectors(), strict=True):
        np.testing.assert_allclose(vec[t], v, atol=1e-4)
    rest = set(clean.texts()) - killed_texts
    assert 0 < len(rest) < len(set(clean.texts()))
    assert report.chunks_embedded == len(rest)
    assert (report.files_indexed, index.stats().documents) == (1, 1)
    assert check_index(name).ok


@pytest.mark.slow
def test_sigkill_inside_a_big_file_then_update_resumes_there(
    minilm: Encoder, tmp_path: Path, embedlab_home: Path
) -> None:
    # the killed process reads blocks of BLOCK characters, this one of the default 64,000:
    # a text file resumes at a character of the file, whatever size of blocks it is cut in
    folder = tmp_path / "big"
    folder.mkdir()
    text = " ".join(" ".join(a.text.split()) for a in news_articles(limit=2))[:4000]
    (folder / "one-line.txt").write_text(text, encoding="utf-8")  # no newline at all
    clean = create_index("ckpt-clean", [folder], minilm, chunking=CHUNKING)
    total = len(clean.texts())
    assert total > 3 * CHECKPOINT

    name = "ckpt-killed"
    env = {**os.environ, "EMBEDLAB_HOME": str(embedlab_home)}
    args = [name, str(folder), str(CHECKPOINT), str(BLOCK)]
    proc = subprocess.Popen(
        [sys.executable, "-c", INDEXER, *args], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(proc, lambda: _checkpointed(name) > 0, 240, "the indexer made no checkpoint")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    killed = open_index(name)
    done = _checkpointed(name)
    assert CHECKPOINT <= done == len(killed.texts()) < total  # the kill landed mid-file
    assert killed.stats().documents == 0  # the file is not complete yet
    killed_texts = set(killed.texts())
    assert set(_rows(killed)) <= set(_rows(clean))  # what was committed is final

    report = update_index(name, minilm)
    assert report.files_resumed == 1 and ingest.BLOCK_CHARS > len(text) > 5 * BLOCK
    _assert_resumed_like_clean(name, clean, killed_texts, report)
    drop_index(name)
    drop_index("ckpt-clean")


class _Interrupted(BaseException):
    """Stands for a kill inside the run: it stops it, and its uncommitted work is undone."""


class _StopsAfterCheckpoint(CountingEncoder):
    """The real encoder, failing on its first call after a checkpoint was committed."""

    armed = False

    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        if self.armed:
            raise _Interrupted
        return super()._embed(texts, role)


def _interrupted_create(
    name: str, folder: Path, minilm: Encoder, monkeypatch: pytest.MonkeyPatch
) -> set[str]:
    """Create ``name`` and stop it inside the file after its first checkpoint; the texts it
    committed."""
    encoder = _StopsAfterCheckpoint(minilm)
    real = writer.IndexWriter._checkpoint

    def checkpoint(self: writer.IndexWriter, *args: Any) -> None:
        real(self, *args)
        encoder.armed = True

    with monkeypatch.context() as m:
        m.setattr(writer.IndexWriter, "_checkpoint", checkpoint)
        with pytest.raises(_Interrupted):
            create_index(name, [folder], encoder, chunking=CHUNKING)
    index = open_index(name)
    assert index.stats().documents == 0 and len(index.texts()) >= CHECKPOINT
    return set(index.texts())


def _write(kind: str, folder: Path, records: list[tuple[str, str]]) -> Path:
    folder.mkdir(exist_ok=True)
    p = folder / f"big.{kind}"
    if kind == "jsonl":
        lines = (json.dumps({"text": t, "title": h, "n": i}) for i, (h, t) in enumerate(records))
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif kind == "csv":
        with open(p, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["title", "text", "n"])
            w.writerows([h, t, i] for i, (h, t) in enumerate(records))
    elif kind == "pdf":
        make_pdf(p, [t[:160] for _, t in records], title="Big")
    else:
        p.write_text("\n\n".join(f"## {h}\n\n{t}" for h, t in records), encoding="utf-8")
    return p


def _records(n: int, start: int = 0) -> list[tuple[str, str]]:
    arts = news_articles(limit=start + n)[start:]
    return [(a.title, " ".join(a.text.split())[:320]) for a in arts]


@pytest.mark.parametrize("kind", ["jsonl", "csv", "pdf", "md"])
def test_interrupted_file_resumes_inside_itself(
    kind: str, minilm: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "CHECKPOINT_CHUNKS", CHECKPOINT)
    monkeypatch.setattr(writer, "EMBED_BATCH", 4)
    monkeypatch.setattr(ingest, "BLOCK_CHARS", 300)
    folder = tmp_path / kind
    _write(kind, folder, _records(16 if kind == "pdf" else 6))
    clean = create_index(f"ckpt-{kind}-clean", [folder], minilm, chunking=CHUNKING)
    assert len(clean.texts()) > 2 * CHECKPOINT
    name = f"ckpt-{kind}"
    killed_texts = _interrupted_create(name, folder, minilm, monkeypatch)
    report = update_index(name, minilm)
    assert report.files_resumed == 1
    _assert_resumed_like_clean(name, clean, killed_texts, report)
    drop_index(name)
    drop_index(f"ckpt-{kind}-clean")


def test_interrupted_file_that_changed_is_read_again_from_its_start(
    minilm: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "CHECKPOINT_CHUNKS", CHECKPOINT)
    monkeypatch.setattr(writer, "EMBED_BATCH", 4)
    folder = tmp_path / "changed"
    _write("jsonl", folder, _records(6))
    name = "ckpt-changed"
    killed_texts = _interrupted_create(name, folder, minilm, monkeypatch)
    _write("jsonl", folder, _records(1, start=20) + _records(6))  # new records first
    clean = create_index("ckpt-changed-clean", [folder], minilm, chunking=CHUNKING)
    report = update_index(name, minilm)
    assert report.files_resumed == 0  # its records moved: the recorded position is void
    assert report.chunks_reused >= len(killed_texts)  # what was committed is not embedded again
    _assert_resumed_like_clean(name, clean, killed_texts, report)
    drop_index(name)
    drop_index("ckpt-changed-clean")
