"""Resumable documents: the state of the document being indexed, its checkpoint in its
``documents`` row (written, read back, cleared at its end), and the chunking of a file's
records that can start at such a checkpoint.

Big files are checkpointed: every :data:`~embedlab.stores.writer.CHECKPOINT_CHUNKS` chunks
(at a record boundary) the writer commits inside the file and records in
``documents.done_units/done_char/done_chunks`` how far it got; such a document stays
``complete = 0`` (its chunks so far are searchable) until its end commits. ``index update``
resumes it there when the file still has the same digest (records before the position are
not chunked or embedded again); a file that changed meanwhile is read from its start, its
committed chunks reused by text hash.

The writer (:class:`~embedlab.stores.writer.IndexWriter`) decides when to checkpoint and
owns the transaction; this module reads and writes the rows' resume columns inside it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from embedlab.stores.chunking import Chunker, TextPiece
from embedlab.stores.ingest import BLOCK_CHARS, Record
from embedlab.stores.write_run import FileJob

#: a text carried from one piece of a long line to the next is cut even where no chunk
#: starts a word (a text without whitespace) once it is this long: memory stays bounded.
MAX_CARRY_CHARS = 4 * BLOCK_CHARS


@dataclass
class Resume:
    """Where a document's chunks go on: records done, the offset inside the next record
    (-1: its start), chunks committed."""

    units: int = 0
    char: int = -1
    chunks: int = 0

    @property
    def resumed(self) -> bool:
        """Whether this is a checkpoint's position (not the start of the document)."""
        return self.units > 0 or self.char >= 0


@dataclass
class DocState:
    """The document being indexed: its row, old chunks to reuse, chunk count and numbering."""

    doc_id: int
    own: dict[str, list[int]]
    count: int
    #: its committed chunks are final (no old ones left to reuse): checkpoints record where
    #: it got
    fresh: bool
    kept: set[int] = field(default_factory=set)
    record: int = -1
    seq: int = 0


def _settled(text: str, pieces: list[TextPiece]) -> int:
    """How many ``pieces`` of a ``text`` that goes on in the next record are final.

    All but the last: the next piece of text may change it. The chunking goes on from the
    start of the first unsettled piece as if the text had not been cut, which holds where
    that piece starts a word (after whitespace: the tokens from there are the same); so
    the count goes down to such a piece, unless the carried text would grow past
    :data:`MAX_CARRY_CHARS` (a text without whitespace): then all but the last are final,
    or all of them when even the last is that long (one huge "word": nothing is carried).
    """
    m = len(pieces) - 1
    while m > 0 and not text[pieces[m].start - 1].isspace():
        m -= 1
    if len(text) - pieces[m].start > MAX_CARRY_CHARS:  # no word start near the end
        last = len(text) - pieces[-1].start
        m = len(pieces) - 1 if len(pieces) > 1 and last <= MAX_CARRY_CHARS else len(pieces)
    return m


def chunk_file(
    records: Iterable[tuple[int, Record]], chunker: Chunker, at: Resume | None = None
) -> Iterator[tuple[Record, list[TextPiece], int, tuple[int, int]]]:
    """The chunks of a file's numbered records, as the index stores them.

    Yields ``(record, pieces, base, resume)``: chunks of ``record`` whose offsets count from
    ``base`` in it, and the resume point after them, ``(units, char)``. For a text file's
    blocks (``Record.stream``) it is ``(0, char)``: the character of the file where the
    chunks go on, whatever size of blocks the reader cuts; for other records ``(units,
    -1)``: the records done. A run of records with ``more`` set (pieces of one long text)
    is chunked as one text: the last, unfinished chunk of each is carried into the next,
    so memory stays bounded by the pieces' size.

    :param at: start there: the records before ``at.units`` are not given; with
        ``at.char``, the blocks that end before it are passed over and the one holding it
        is chunked from it.
    """
    at = at or Resume()
    carry = ""  # the unfinished end of a text that goes on in the next record
    carry_at = 0  # its offset in the file
    last: Record | None = None
    for unit, rec in records:
        last = rec
        text, base = rec.text, rec.offset
        if at.char >= 0:  # resuming a text file at a character
            if base + len(text) <= at.char:
                continue  # chunked before the checkpoint
            text, base = text[max(0, at.char - base) :], max(base, at.char)
            at = Resume()
        if carry:
            text, base = carry + text, carry_at
        carry = ""
        if not text.strip():
            continue
        pieces = chunker.chunks(text)
        if rec.more and pieces:
            m = _settled(text, pieces)
            if m < len(pieces):
                carry, carry_at = text[pieces[m].start :], base + pieces[m].start
            pieces = pieces[:m]
        yield rec, pieces, base, _after(unit, rec, carry_at if carry else -1)
    if carry and last is not None:  # the last record said the text goes on; it ended
        yield last, chunker.chunks(carry), carry_at, _after(-1, last, -1)


def _after(unit: int, rec: Record, carry_at: int) -> tuple[int, int]:
    """The resume point after ``rec`` (number ``unit``), or at ``carry_at`` (>= 0)."""
    if rec.stream:
        return 0, carry_at if carry_at >= 0 else rec.offset + len(rec.text)
    return unit + 1, -1


def open_document(
    conn: sqlite3.Connection, job: FileJob
) -> tuple[int, Resume, dict[str, list[int]]]:
    """The document row of ``job`` (inserted when new), where its chunks go on, and its
    chunks from before (text hash -> ids) to reuse or delete.

    A document a checkpoint left unfinished, whose file has the digest it had then,
    resumes at the recorded position (:attr:`Resume.resumed`) with its committed chunks
    final (none to reuse).
    """
    row = conn.execute(
        "SELECT id, hash, complete, done_units, done_char, done_chunks FROM documents WHERE path=?",
        (str(job.path),),
    ).fetchone()
    if row is None:
        cur = conn.execute(
            "INSERT INTO documents(path, hash, mtime_ns, size, chunks, complete) "
            "VALUES (?, ?, ?, ?, 0, 0)",
            (str(job.path), job.digest, job.mtime_ns, job.size),
        )
        return int(cur.lastrowid or 0), Resume(), {}
    doc_id, digest, complete, units, char, chunks = row
    if not complete and digest == job.digest and (units > 0 or char >= 0):
        return int(doc_id), Resume(int(units), int(char), int(chunks)), {}
    own: dict[str, list[int]] = {}
    for cid, h in conn.execute("SELECT id, hash FROM chunks WHERE doc_id=?", (doc_id,)):
        own.setdefault(h, []).append(cid)
    conn.execute(
        "UPDATE documents SET complete=0, done_units=0, done_char=-1, done_chunks=0 WHERE id=?",
        (doc_id,),
    )
    return int(doc_id), Resume(), own


def next_seq(conn: sqlite3.Connection, doc_id: int) -> tuple[int, int]:
    """The last record of a resumed document and the number of its next chunk."""
    row = conn.execute(
        "SELECT record, seq FROM chunks WHERE doc_id=? ORDER BY record DESC, seq DESC LIMIT 1",
        (doc_id,),
    ).fetchone()
    return (-1, 0) if row is None else (int(row[0]), int(row[1]) + 1)


def record_checkpoint(conn: sqlite3.Connection, state: DocState, units: int, char: int) -> None:
    """Record in the document's row where it goes on, ``(units, char)`` as
    :func:`chunk_file` yields it, when its committed chunks are final (a document indexed
    from scratch or resumed); the caller commits."""
    if state.fresh:
        conn.execute(
            "UPDATE documents SET done_units=?, done_char=?, done_chunks=? WHERE id=?",
            (units, char, state.count, state.doc_id),
        )


def finish_document(conn: sqlite3.Connection, state: DocState, job: FileJob) -> int:
    """Delete the old chunks not met again and mark the document complete, its checkpoint
    cleared (or drop it when it has no chunk); returns how many old chunks were deleted."""
    stale = [cid for ids in state.own.values() for cid in ids if cid not in state.kept]
    if stale:
        conn.executemany("DELETE FROM chunks WHERE id=?", [(c,) for c in stale])
    if state.count == 0:  # nothing to search: the document is not kept
        conn.execute("DELETE FROM chunks WHERE doc_id=?", (state.doc_id,))
        conn.execute("DELETE FROM documents WHERE id=?", (state.doc_id,))
        return len(stale)
    conn.execute(
        "UPDATE documents SET hash=?, mtime_ns=?, size=?, chunks=?, complete=1, "
        "done_units=0, done_char=-1, done_chunks=0 WHERE id=?",
        (job.digest, job.mtime_ns, job.size, state.count, state.doc_id),
    )
    return len(stale)


__all__ = [
    "MAX_CARRY_CHARS",
    "DocState",
    "Resume",
    "chunk_file",
    "finish_document",
    "next_seq",
    "open_document",
    "record_checkpoint",
]
