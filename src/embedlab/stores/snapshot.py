"""Snapshots of an embedded index: per committed generation, the chunk ids and where each
row's vector lies (segment, row), over the memory-mapped segments.

Readers hold, per generation, the chunk ids and where each row's vector lies (segment,
row), the segments memory-mapped (:class:`~embedlab.stores.segment_rows.SegmentRows`, never
copied whole), and nothing else: texts and metadata are read from SQLite for the hits
(:meth:`~embedlab.stores.embedded.EmbeddedIndex.get_chunks`), and a filter's rows are
selected by SQLite (:mod:`embedlab.stores.filter_sql`).

This module holds the pieces of that: the segments opened through ``mmap`` and checked
against the ``segments`` table, the (segment, row) pairs assembled into
:class:`~embedlab.stores.segment_rows.SegmentRows`, the row locations of each generation cached
under ``snap/gen-G.npy`` (a new generation catches up from the previous one's file), and
the latest snapshot of each index shared by the objects of this process.
:class:`~embedlab.stores.embedded.EmbeddedIndex` reads through them.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.bounded import BoundedCache
from embedlab.stores.db import DB_NAME, SEGMENTS, damaged
from embedlab.stores.segment_rows import SegmentRows
from embedlab.vectors import normalize

#: a segment file whose name ends so holds unit-length rows (see ``writer.write_segment``).
UNIT_SUFFIX = ".unit.npy"


@dataclass(frozen=True)
class Snapshot:
    """One committed generation: chunk ids (ascending) and their vectors, read in place."""

    generation: int
    ids: np.ndarray
    rows: SegmentRows

    @property
    def vectors(self) -> np.ndarray:
        """All rows as one matrix (the mapped segment itself when one holds them in order)."""
        return self.rows.array()


Segments = dict[int, tuple[str, int, int]]
"""segment id -> (file name, rows, dims), as the ``segments`` table records them."""


def read_segments(conn: sqlite3.Connection) -> Segments:
    """The ``segments`` table as a dict."""
    rows = conn.execute("SELECT id, file, rows, dims FROM segments").fetchall()
    return {int(i): (str(f), int(r), int(d)) for i, f, r, d in rows}


def open_segment(folder: Path, file: str, rows: int, dims: int, name: str = "") -> np.ndarray:
    """A segment through ``mmap``, checked against what was recorded at commit: shape, dtype
    and file size (cheap: no hashing; ``index check`` compares checksums).

    :raises FileNotFoundError: when the file is gone (compacted away meanwhile: retry).
    :raises IndexDamagedError: when it is truncated, extended or not a float32 ``.npy``.
    """
    path = folder / SEGMENTS / file
    label = name or folder.name
    try:
        mm = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise damaged(label, path, f"cannot be read as a vector segment ({exc})") from None
    if not isinstance(mm, np.memmap) or mm.dtype != np.float32 or mm.shape != (rows, dims):
        raise damaged(
            label,
            path,
            f"holds {getattr(mm, 'dtype', '?')} {getattr(mm, 'shape', '?')}, not the "
            f"float32 ({rows}, {dims}) recorded at commit",
        )
    expected = mm.offset + mm.nbytes
    actual = path.stat().st_size
    if actual != expected:
        raise damaged(label, path, f"is {actual} bytes, not the {expected} written at commit")
    return mm


def unit_segment(folder: Path, file: str, rows: int, dims: int, name: str = "") -> np.ndarray:
    """:func:`open_segment` with unit-length rows: the mapped file itself for a segment
    written normalised (``*.unit.npy``); a normalised in-memory copy for one written before
    (the next compaction rewrites it normalised)."""
    mm = open_segment(folder, file, rows, dims, name)
    if file.endswith(UNIT_SUFFIX):
        return mm
    out = normalize(np.asarray(mm))
    out.flags.writeable = False
    return out


def segment_rows(folder: Path, segs: Segments, seg_col: np.ndarray, row_col: np.ndarray,
                 dims: int, name: str = "") -> SegmentRows:  # fmt: skip
    """The rows named by (segment, row) pairs over the mapped segments, checked against
    the ``segments`` table (unknown segment, row past its end: damaged)."""
    uniq = np.unique(seg_col)
    missing = [int(s) for s in uniq if int(s) not in segs]
    if missing:
        raise damaged(
            name or folder.name, folder / DB_NAME, f"names unknown segments {missing[:5]}"
        )
    blocks: list[np.ndarray] = []
    block_of = np.empty(len(seg_col), dtype=np.int64)
    for b, s in enumerate(uniq):
        where = seg_col == s
        rows = segs[int(s)][1]
        top = int(row_col[where].max())
        if top >= rows:
            raise damaged(
                name or folder.name,
                folder / DB_NAME,
                f"points at row {top} of {segs[int(s)][0]}, which has {rows} rows",
            )
        blocks.append(unit_segment(folder, *segs[int(s)], name))
        block_of[where] = b
    if not blocks:
        blocks = [np.zeros((0, dims), dtype=np.float32)]
    return SegmentRows(blocks, block_of, row_col)


def gather_rows(folder: Path, segs: Segments, seg_col: np.ndarray, row_col: np.ndarray,
            dims: int, name: str = "") -> np.ndarray:  # fmt: skip
    """One float32 matrix of unit rows from (segment, row) pairs (compaction reads it; the
    mapped segment itself when one segment holds them all in order)."""
    if len(seg_col) == 0:
        return np.zeros((0, dims), dtype=np.float32)
    return segment_rows(folder, segs, seg_col, row_col, dims, name).array()


#: indexes whose latest snapshot is kept in this process (shared by all EmbeddedIndex
#: objects of an index, so opening one per request stays cheap).
SNAPSHOT_CACHE = 16
#: (folder, created) -> the latest snapshot loaded; ``created`` tells an index dropped
#: and made again under the same name from the old one.
_SNAPSHOTS: BoundedCache[tuple[str, str], Snapshot] = BoundedCache(SNAPSHOT_CACHE)


#: folder of the cached row locations of each generation (see :func:`locations`).
SNAPSHOTS = "snap"


def _read_locations(path: Path, segs: Segments) -> np.ndarray | None:
    try:
        cols = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if cols.ndim != 2 or cols.shape[1] != 3 or cols.dtype != np.int64:
        return None
    if len(cols) and not set(np.unique(cols[:, 1]).tolist()) <= set(segs):
        return None  # compacted since: its rows moved to another segment
    return cols


def _newest_locations(base: Path, generation: int, segs: Segments) -> np.ndarray | None:
    if not base.is_dir():
        return None
    gens = sorted(
        (g for g in (_gen_of(p.name) for p in base.glob("gen-*.npy")) if 0 <= g < generation),
        reverse=True,
    )
    for g in gens[:2]:
        cols = _read_locations(base / f"gen-{g}.npy", segs)
        if cols is not None:
            return cols
    return None


def _gen_of(name: str) -> int:
    try:
        return int(name.removeprefix("gen-").split(".")[0])
    except ValueError:
        return -1


def _int_column(cur: sqlite3.Cursor) -> np.ndarray:
    return np.fromiter((r[0] for r in cur), dtype=np.int64)


def _write_locations(base: Path, generation: int, cols: np.ndarray) -> None:
    """Best effort (a read-only home keeps nothing); older generations' files removed."""
    import os

    path = base / f"gen-{generation}.npy"
    tmp = base / f".gen-{generation}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        base.mkdir(exist_ok=True)
        with open(tmp, "wb") as f:
            np.save(f, cols, allow_pickle=False)
        os.replace(tmp, path)
        for old in base.glob("gen-*.npy"):
            if _gen_of(old.name) < generation:
                old.unlink(missing_ok=True)
    except OSError:
        tmp.unlink(missing_ok=True)


def locations(
    conn: sqlite3.Connection, folder: Path, generation: int, segs: Segments
) -> np.ndarray:
    """``(n, 3)`` int64 (chunk id, segment, row), ids ascending, of ``generation``.

    Kept under ``snap/gen-G.npy`` (a derived cache: temp file renamed into place, any
    process may write it, a file that does not read or names a segment no longer
    there is ignored): a fresh process reads 24 bytes a chunk instead of a million
    SQLite rows. A new generation starts from the newest older file: rows past its
    last id are read, and its ids are checked against the table only when rows
    were deleted (a count says so).
    """
    base = folder / SNAPSHOTS
    cached = _read_locations(base / f"gen-{generation}.npy", segs)
    if cached is not None:
        return cached
    cols: np.ndarray | None = None
    older = _newest_locations(base, generation, segs)
    if older is not None:
        top = int(older[-1, 0]) if len(older) else 0
        live = conn.execute("SELECT count(*) FROM chunks WHERE id <= ?", (top,)).fetchone()
        if int(live[0]) != len(older):  # deletions: keep the ids still there
            kept = _int_column(conn.execute("SELECT id FROM chunks WHERE id <= ?", (top,)))
            older = older[np.isin(older[:, 0], kept)]
        new = conn.execute(
            "SELECT id, segment, row FROM chunks WHERE id > ? ORDER BY id", (top,)
        ).fetchall()
        cols = np.vstack([older, np.array(new, dtype=np.int64).reshape(-1, 3)])
    if cols is None:
        cur = conn.execute("SELECT id, segment, row FROM chunks ORDER BY id")
        cols = np.array(cur.fetchall(), dtype=np.int64).reshape(-1, 3)
    _write_locations(base, generation, cols)
    return cols


def shared_snapshot(key: tuple[str, str]) -> Snapshot | None:
    """The latest snapshot of the index ``key`` (folder, created) loaded in this process."""
    return _SNAPSHOTS.get(key)


def share_snapshot(key: tuple[str, str], snap: Snapshot) -> None:
    """Keep ``snap`` as the index's latest snapshot, unless a newer one is kept already."""
    old = _SNAPSHOTS.get(key)
    if old is None or old.generation <= snap.generation:
        _SNAPSHOTS.put(key, snap)


def forget_snapshot(folder: Path) -> None:
    """Drop the snapshot this process keeps of the index in ``folder`` and its cached row
    locations on disk."""
    import shutil

    key = str(folder)
    _SNAPSHOTS.discard(lambda k: k[0] == key)
    # the cached row locations too: they are trusted while the generation stands, so an
    # index whose rows were changed behind the writer's back is read from SQLite again
    shutil.rmtree(folder / SNAPSHOTS, ignore_errors=True)


__all__ = [
    "SNAPSHOTS",
    "SNAPSHOT_CACHE",
    "UNIT_SUFFIX",
    "Segments",
    "Snapshot",
    "forget_snapshot",
    "locations",
    "open_segment",
    "read_segments",
    "segment_rows",
    "share_snapshot",
    "shared_snapshot",
    "unit_segment",
]
