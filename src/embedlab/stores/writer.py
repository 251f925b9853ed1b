"""Writing an embedded index: read, chunk, embed once, commit whole documents atomically.

The writer holds the index's :class:`~embedlab.stores.lock.WriteLock` and one open SQLite
write transaction at a time. Chunks are embedded in batches; their vectors go to a new
``.npy`` segment that is fsynced and renamed into place before the chunk rows that point
at it are inserted. The transaction commits only between documents, so a committed
document always has all its chunks (``documents.complete = 1`` in the same transaction).
SIGKILL at any moment loses at most the uncommitted documents; the segment files they
wrote are orphans, deleted by the next writer, and ``index update`` redoes them.

Big files are checkpointed: every :data:`CHECKPOINT_CHUNKS` chunks (at a record boundary)
the writer commits inside the file, and ``index update`` resumes it there; the documents'
resume state, their checkpoint columns and the chunking that starts at a checkpoint are in
:mod:`embedlab.stores.resume`.

A chunk whose text hash is already stored is not embedded again: the new row points at the
stored vector (and keeps its id when it belongs to the same document).

What a run is given and reports (:class:`FileJob`, :class:`WriteReport`, the hashes) is in
:mod:`embedlab.stores.write_run`, shared with the Milvus writer (and importable from here).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.models.base import Encoder
from embedlab.stores.chunking import Chunker, TextPiece
from embedlab.stores.db import SEGMENTS
from embedlab.stores.ingest import ReadOptions, Record, SkipFile, Skipped, read_file
from embedlab.stores.resume import (
    DocState,
    chunk_file,
    finish_document,
    next_seq,
    open_document,
    record_checkpoint,
)
from embedlab.stores.write_run import FileJob, Progress, WriteReport, file_digest, text_hash

#: chunks embedded per encoder call.
EMBED_BATCH = 128
#: vectors per segment file before it is written mid-document.
SEGMENT_ROWS = 8192
#: commit (between documents) after this many new chunk rows or seconds.
COMMIT_ROWS = 1024
COMMIT_SECONDS = 2.0
#: a big file commits inside itself after this many chunks (at a record boundary), or after
#: CHECKPOINT_SECONDS of work: a kill loses at most that much, and ``index update`` resumes
#: from there.
CHECKPOINT_CHUNKS = 4096
CHECKPOINT_SECONDS = 120.0


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_segment(folder: Path, matrix: np.ndarray) -> tuple[str, str]:
    """Write an immutable float32 segment (tmp file, fsync, rename), its rows scaled to unit
    length so readers scan it as it lies on disk (memory-mapped, never normalised again).

    The name says so: ``<uuid>.unit.npy`` (see :data:`UNIT_SUFFIX`); a segment written
    before vectors were normalised at write time is named ``<uuid>.npy`` and is normalised
    when read. A zero row stays zero.

    :return: its file name and the sha256 of its bytes (recorded at commit, compared by
        ``index check``).
    :raises OSError: when it cannot be written (a disk full...); no file is left behind.
    """
    from embedlab.stores.snapshot import UNIT_SUFFIX
    from embedlab.vectors import normalize

    seg_dir = folder / SEGMENTS
    seg_dir.mkdir(exist_ok=True)
    name = f"{uuid.uuid4().hex}{UNIT_SUFFIX}"
    tmp = seg_dir / f".{name}.tmp"
    buf = io.BytesIO()
    unit = np.ascontiguousarray(normalize(np.asarray(matrix, dtype=np.float32)))
    np.save(buf, unit, allow_pickle=False)
    data = buf.getbuffer()
    digest = hashlib.sha256(data).hexdigest()
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, seg_dir / name)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.filename is None:  # a failed write() names no file: name the segment
            raise OSError(exc.errno, exc.strerror, str(seg_dir / name)) from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(seg_dir)
    return name, digest


def bump_generation(conn: sqlite3.Connection) -> None:
    """Increment the generation and the update time (inside the caller's transaction)."""
    row = conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
    gen = (int(json.loads(row[0])) if row else 0) + 1
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    conn.executemany(
        "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
        [("generation", json.dumps(gen)), ("updated", json.dumps(now))],
    )


class _Buffer:
    """Chunk rows waiting for vectors, and the vectors of the current segment."""

    def __init__(self) -> None:
        self.rows: list[tuple[tuple[Any, ...], int]] = []  # (row values, vector slot)
        self.slot_of: dict[str, int] = {}  # text hash -> slot
        self.texts: list[str] = []  # slot -> text
        self.vectors: list[np.ndarray] = []  # embedded batches, in slot order
        self.embedded = 0  # slots embedded so far

    def slot(self, digest: str, text: str) -> tuple[int, bool]:
        """The vector slot for this text; ``True`` when it is new (to be embedded)."""
        if digest in self.slot_of:
            return self.slot_of[digest], False
        self.slot_of[digest] = len(self.texts)
        self.texts.append(text)
        return len(self.texts) - 1, True


class IndexWriter:
    """Indexes files into one embedded index; the caller holds the write lock."""

    def __init__(
        self,
        folder: Path,
        conn: sqlite3.Connection,
        encoder: Encoder,
        chunker: Chunker,
        options: ReadOptions,
        report: WriteReport,
    ) -> None:
        self.folder = folder
        self.conn = conn
        self.encoder = encoder
        self.chunker = chunker
        self.options = options
        self.report = report
        self.buf = _Buffer()
        self._in_txn = False
        self._txn_jobs: list[FileJob] = []
        self._txn_segments: list[str] = []
        self._txn_rows = 0
        self._txn_started = time.monotonic()
        self._counters = (0, 0, 0, 0)
        self.progress: Progress | None = None
        self.files_done = 0
        self.files_total = 0
        self._skipped_lines: set[Skipped] = set()
        self._resumed: set[str] = set()
        # chunks per encoder call: an encoder that spreads a call over workers (Ray) asks
        # for more, so that each of them has a batch
        self.embed_batch = int(getattr(encoder, "embed_group", EMBED_BATCH))

    def tick(self) -> None:
        """Report progress (files read, files to read, chunks embedded so far)."""
        if self.progress is not None:
            self.progress(self.files_done, self.files_total, self.report.chunks_embedded)

    # --- transactions -----------------------------------------------------------------
    def _begin(self) -> None:
        if not self._in_txn:
            self.conn.execute("BEGIN IMMEDIATE")
            self._in_txn = True
            self._txn_started = time.monotonic()
            r = self.report
            self._counters = (r.files_indexed, r.chunks_embedded, r.chunks_reused, r.chunks_removed)

    def commit(self) -> None:
        """Write pending vectors, bump the generation and commit (between documents only)."""
        if not self._in_txn:
            return
        self._flush_segment()
        bump_generation(self.conn)
        self.conn.execute("COMMIT")
        self._in_txn = False
        self._txn_jobs, self._txn_segments, self._txn_rows = [], [], 0

    def rollback(self) -> list[FileJob]:
        """Undo the open transaction; return the jobs it held (to be redone)."""
        jobs = self._txn_jobs
        if self._in_txn:
            self._in_txn = False
            with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already
                self.conn.execute("ROLLBACK")
            r = self.report
            r.files_indexed, r.chunks_embedded, r.chunks_reused, r.chunks_removed = self._counters
        for name in self._txn_segments:
            (self.folder / SEGMENTS / name).unlink(missing_ok=True)
        self.buf = _Buffer()
        self._txn_jobs, self._txn_segments, self._txn_rows = [], [], 0
        return jobs

    # --- vectors ----------------------------------------------------------------------
    def _embed_pending(self) -> None:
        buf = self.buf
        while buf.embedded < len(buf.texts):
            batch = buf.texts[buf.embedded : buf.embedded + self.embed_batch]
            t0 = time.perf_counter()
            buf.vectors.append(self.encoder.embed(batch, role="document"))
            self.report.embed_seconds += time.perf_counter() - t0
            buf.embedded += len(batch)
            self.report.chunks_embedded += len(batch)
            self.tick()

    def _flush_segment(self) -> None:
        """Embed what is pending, write the segment, insert the rows that point at it."""
        buf = self.buf
        if not buf.rows:
            self.buf = _Buffer()
            return
        self._embed_pending()
        matrix = np.concatenate(buf.vectors) if buf.vectors else None
        if matrix is None:
            raise AssertionError("rows without vectors")
        name, digest = write_segment(self.folder, matrix)
        self._txn_segments.append(name)
        cur = self.conn.execute(
            "INSERT INTO segments(file, rows, dims, sha256) VALUES (?, ?, ?, ?)",
            (name, len(matrix), matrix.shape[1], digest),
        )
        seg_id = cur.lastrowid
        self.conn.executemany(
            "INSERT INTO chunks(doc_id, record, seq, start_char, end_char, text, title, "
            "metadata, hash, segment, row) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(*values, seg_id, slot) for values, slot in buf.rows],
        )
        self.buf = _Buffer()

    # --- documents --------------------------------------------------------------------
    def index_file(self, job: FileJob) -> int:
        """Index one file inside the open transaction; returns its number of chunks.

        A big file commits at checkpoints (every :data:`CHECKPOINT_CHUNKS` chunks, at a
        record boundary); a document left unfinished by a kill resumes where its last
        checkpoint recorded it got, when its file has the same digest (else it is read
        again from the start, its committed chunks reused by text).

        :raises SkipFile: when the file cannot be read (the caller rolls back).
        """
        self._begin()
        self._txn_jobs.append(job)
        doc_id, at, own = open_document(self.conn, job)
        state = DocState(doc_id, own, at.chunks, fresh=not own)
        if at.resumed:
            self._resumed.add(str(job.path))
            self.report.files_resumed = len(self._resumed)
            state.record, state.seq = next_seq(self.conn, doc_id)
        since = 0  # chunks since the last commit
        records = self._records(job.path, at.units)
        for rec, pieces, base, (units, char) in chunk_file(records, self.chunker, at):
            since += self._add_pieces(state, rec, pieces, base)
            if since >= CHECKPOINT_CHUNKS or (
                since and time.monotonic() - self._txn_started >= CHECKPOINT_SECONDS
            ):
                self._checkpoint(job, state, units, char)
                since = 0
        self.report.chunks_removed += finish_document(self.conn, state, job)
        return state.count

    def _add_pieces(self, state: DocState, rec: Record, pieces: list[TextPiece], base: int) -> int:
        """Store the chunks ``pieces`` of ``rec`` (offsets from ``base`` in the record):
        reuse a stored vector of the same text, else queue the text to embed."""
        if not pieces:
            return 0
        conn = self.conn
        if rec.record != state.record:  # chunk numbers go on across the blocks of a record
            state.record, state.seq = rec.record, 0
        meta = json.dumps(rec.metadata, ensure_ascii=False, default=str)
        own = state.own
        for piece in pieces:
            seq = state.seq
            state.seq += 1
            state.count += 1
            digest = text_hash(piece.text)
            values = (state.doc_id, rec.record, seq, base + piece.start, base + piece.end,
                      piece.text, rec.title, meta, digest)  # fmt: skip
            if own.get(digest):
                cid = own[digest].pop()
                state.kept.add(cid)
                conn.execute(
                    "UPDATE chunks SET record=?, seq=?, start_char=?, end_char=?, title=?, "
                    "metadata=? WHERE id=?",
                    (rec.record, seq, values[3], values[4], rec.title, meta, cid),
                )
                self.report.chunks_reused += 1
                continue
            stored = conn.execute(
                "SELECT segment, row FROM chunks WHERE hash=? LIMIT 1", (digest,)
            ).fetchone()
            if stored is not None:
                conn.execute(
                    "INSERT INTO chunks(doc_id, record, seq, start_char, end_char, text, "
                    "title, metadata, hash, segment, row) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (*values, stored[0], stored[1]),
                )
                self.report.chunks_reused += 1
                continue
            slot, new = self.buf.slot(digest, piece.text)
            self.buf.rows.append((values, slot))
            self._txn_rows += 1
            if new and len(self.buf.texts) - self.buf.embedded >= self.embed_batch:
                self._embed_pending()
            if len(self.buf.texts) >= SEGMENT_ROWS:
                self._flush_segment()
        return len(pieces)

    def _checkpoint(self, job: FileJob, state: DocState, units: int, char: int) -> None:
        """Commit inside a big file; record where it goes on (when its committed chunks
        are final: a document indexed from scratch or resumed)."""
        record_checkpoint(self.conn, state, units, char)
        self.commit()
        self.report.checkpoints += 1
        self._begin()
        self._txn_jobs.append(job)

    def _records(self, path: Path, skip: int = 0) -> Iterator[tuple[int, Record]]:
        """The file's records from number ``skip`` on, with their number (counting every
        record the reader yields); a part that could not be read (a malformed line) is
        reported, once even if the file is redone after a rollback, and left out."""
        for unit, rec in enumerate(read_file(path, self.options, skip=skip)):
            if not rec.problem:
                if unit >= skip:
                    yield unit, rec
                continue
            skipped = Skipped(str(path), rec.problem, rec.line)
            if skipped not in self._skipped_lines:
                self._skipped_lines.add(skipped)
                self.report.skipped.append(skipped)

    def due(self) -> bool:
        """Whether enough work is pending to commit at this document boundary."""
        return self._in_txn and (
            self._txn_rows >= COMMIT_ROWS or time.monotonic() - self._txn_started >= COMMIT_SECONDS
        )


def run_jobs(writer: IndexWriter, jobs: list[FileJob], progress: Progress | None = None) -> None:
    """Index ``jobs`` in order, committing between documents; skip unreadable files."""
    queue = list(jobs)
    done = 0
    writer.progress, writer.files_total = progress, len(jobs)
    while queue:
        job = queue.pop(0)
        try:
            count = writer.index_file(job)
        except SkipFile as exc:
            redo = [j for j in writer.rollback() if j.path != job.path]
            queue[:0] = redo
            done -= len(redo)
            writer.report.skipped.append(Skipped(str(job.path), str(exc)))
            writer.report.chunks_removed += _remove_document(writer.conn, job)
        else:
            if count:
                writer.report.files_indexed += 1
            else:
                writer.report.skipped.append(Skipped(str(job.path), "empty document (no text)"))
            if writer.due():
                writer.commit()
        done += 1
        writer.files_done = max(done, 0)
        writer.tick()
    writer.commit()
    writer.tick()


def _remove_document(conn: sqlite3.Connection, job: FileJob) -> int:
    """A once-indexed file that is now unreadable or empty loses its chunks (own
    transaction); returns how many. So does a new file whose first checkpoints were
    committed before it turned out unreadable."""
    row = conn.execute("SELECT id FROM documents WHERE path=?", (str(job.path),)).fetchone()
    if row is None:
        return 0
    doc_id = int(row[0])
    conn.execute("BEGIN IMMEDIATE")
    removed = conn.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,)).rowcount
    conn.execute("DELETE FROM documents WHERE id=?", (doc_id,))
    bump_generation(conn)
    conn.execute("COMMIT")
    return int(removed)


__all__ = [
    "FileJob",
    "IndexWriter",
    "Progress",
    "WriteReport",
    "chunk_file",
    "file_digest",
    "run_jobs",
    "text_hash",
    "write_segment",
]
