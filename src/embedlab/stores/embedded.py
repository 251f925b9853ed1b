"""The embedded store: one folder per index, SQLite (WAL) for rows, ``.npy`` segments for vectors.

Layout of ``home()/indexes/NAME/``::

    index.sqlite     meta (model, fingerprint, chunking, generation), documents, chunks,
                     segments; WAL mode so readers never wait for the writer
    segments/*.npy   immutable float32 matrices; a chunk row names (segment, row);
                     ``*.unit.npy`` rows are unit length (normalised at write time) and are
                     scanned as mapped; an older ``*.npy`` is normalised when read
    ann/, bm25/      derived caches keyed by generation (see stores/cache.py)
    snap/            the row locations of the latest generation (see stores/snapshot.py)
    write.lock       flock held by the one writer; cache.lock: the one cache builder

Readers hold, per generation, the chunk ids and where each row's vector lies (segment,
row), the segments memory-mapped, and nothing else (:mod:`embedlab.stores.snapshot`);
texts and metadata are read from SQLite for the hits (:meth:`EmbeddedIndex.get_chunks`).

Crash safety comes from the order of writes: a segment file is written, fsynced and
renamed into place *before* the transaction that references it commits; a document and all
its chunks commit in one transaction. A file no committed row references is an orphan and
is deleted by the next writer.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedlab.errors import IndexDamagedError, IndexNotFoundError, InputError, StoreError
from embedlab.settings import home
from embedlab.stores.base import Chunk, Index, IndexStats
from embedlab.stores.db import (
    DB_NAME,
    LOCK_NAME,
    SCHEMA,
    SCHEMA_VERSION,
    SEGMENTS,
    check_schema,
    connect,
    damaged,
    read_meta,
)
from embedlab.stores.segment_rows import SegmentRows
from embedlab.stores.snapshot import (
    SNAPSHOT_CACHE,
    UNIT_SUFFIX,
    Snapshot,
    forget_snapshot,
    locations,
    open_segment,
    read_segments,
    segment_rows,
    share_snapshot,
    shared_snapshot,
    unit_segment,
)

if TYPE_CHECKING:
    from embedlab.stores.filters import Filter

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def indexes_root() -> Path:
    """``home()/indexes`` (created on first use; left absent where home is read-only)."""
    path = home() / "indexes"
    with contextlib.suppress(OSError):  # a read-only home: readers find no index, writers
        path.mkdir(parents=True, exist_ok=True)  # are refused by can_write
    return path


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid index name, else raise :class:`InputError`."""
    if not _NAME.match(name or ""):
        raise InputError(
            f"Invalid index name {name!r}: use letters, digits, '.', '_' or '-' "
            "(at most 64, starting with a letter or digit)."
        )
    return name


def index_folder(name: str) -> Path:
    """The folder of index ``name`` (may not exist)."""
    return indexes_root() / check_name(name)


def exists(name: str) -> bool:
    """Whether an index ``name`` has been created (its meta committed); a damaged database
    counts as an index (it is listed as damaged and can be dropped)."""
    folder = index_folder(name)
    if not (folder / DB_NAME).exists():
        return False
    try:
        conn = connect(folder, name=name)
    except IndexDamagedError:
        return True
    try:
        return bool(conn.execute("SELECT 1 FROM meta WHERE key='model'").fetchone())
    except sqlite3.OperationalError:  # no meta table yet: a create before its first commit
        return False
    except sqlite3.DatabaseError:  # not a database any more: damaged, still an index
        return True
    finally:
        conn.close()


def forget(folder: Path) -> None:
    """Drop everything this process keeps about the index in ``folder`` (when it is dropped,
    its creation failed, or its rows were edited outside the writer): its snapshot, its
    cached row locations on disk, its dense/ANN structures, its query objects."""
    import sys

    forget_snapshot(folder)
    for module in ("embedlab.stores.cache", "embedlab.stores.local"):
        loaded = sys.modules.get(module)  # nothing to forget where it was never imported
        if loaded is not None:
            loaded.forget(folder)


class EmbeddedIndex(Index):
    """An index in its own folder, read through snapshots (see :class:`Index`)."""

    def __init__(self, name: str) -> None:
        self.name = check_name(name)
        self._folder = index_folder(name)
        if not exists(name):
            raise IndexNotFoundError(
                f"No index named {name!r}. See 'embedlab index list', or create it with "
                f"'embedlab index create {name} PATH...'."
            )
        self._conn = connect(self._folder, name=name)
        self._lock = threading.RLock()
        try:
            self._meta = read_meta(self._conn)
        except (sqlite3.DatabaseError, ValueError) as exc:
            self._conn.close()
            raise damaged(name, self._folder / DB_NAME, exc) from None
        missing = [k for k in ("model", "fingerprint", "model_info") if k not in self._meta]
        if missing:
            self._conn.close()
            raise damaged(name, self._folder / DB_NAME, f"has no {', '.join(missing)} in meta")
        try:
            check_schema(self._meta, name)
        except StoreError:
            self._conn.close()
            raise
        self._snap: Snapshot | None = None
        self._key = (str(self._folder), str(self._meta.get("created", "")))
        #: the :class:`~embedlab.stores.write_run.WriteReport` of the run that returned it.
        self.report: Any = None

    # --- meta -------------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return str(self._meta["model"])

    @property
    def fingerprint(self) -> str:
        return str(self._meta["fingerprint"])

    @property
    def model_info(self) -> dict[str, Any]:
        return dict(self._meta["model_info"])

    @property
    def chunking(self) -> dict[str, Any]:
        return dict(self._meta.get("chunking", {}))

    @property
    def sources(self) -> list[str]:
        return list(self._meta.get("sources", []))

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def cache_key(self) -> tuple[str, str]:
        """(folder, creation stamp): what in-process caches of this index are keyed by, so
        an index dropped and created again under the same name is never served the old
        one's structures."""
        return self._key

    def committed_generation(self) -> int:
        """The generation on disk now (does not refresh the snapshot)."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(json.loads(row[0])) if row else 0

    @property
    def generation(self) -> int:
        return self.refresh().generation

    # --- snapshot ---------------------------------------------------------------------
    def refresh(self) -> Snapshot:
        """Load a new snapshot if another generation was committed; return the current one."""
        current = self.committed_generation()
        if self._snap is not None and self._snap.generation == current:
            return self._snap
        shared = shared_snapshot(self._key)
        if shared is not None and shared.generation == current:
            self._snap = shared
            return shared
        for attempt in range(5):
            try:
                self._snap = self._load()
                share_snapshot(self._key, self._snap)
                return self._snap
            except FileNotFoundError as exc:  # compacted away between reads: retry
                if attempt == 4:
                    raise damaged(
                        self.name, Path(exc.filename or self._folder), "is missing"
                    ) from None
            except sqlite3.DatabaseError as exc:
                raise damaged(self.name, self._folder / DB_NAME, exc) from None
        raise AssertionError("unreachable")

    def _snapshot(self) -> Snapshot:
        return self._snap if self._snap is not None else self.refresh()

    def _load(self) -> Snapshot:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN")
            try:
                gen_row = conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
                generation = int(json.loads(gen_row[0])) if gen_row else 0
                segs = read_segments(conn)
                cols = locations(conn, self._folder, generation, segs)
            finally:
                conn.execute("COMMIT")
        ids = np.ascontiguousarray(cols[:, 0])
        rows = segment_rows(self._folder, segs, cols[:, 1], cols[:, 2], self.dims, self.name)
        return Snapshot(generation, ids, rows)

    def snapshot(self) -> Snapshot:
        """The snapshot the views below come from (see :attr:`generation`)."""
        return self._snapshot()

    def chunk_ids(self) -> np.ndarray:
        return self._snapshot().ids

    def iter_vectors(self, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Pages of ``(chunk ids, vectors)`` read from the mapped segments (a page at a
        time: the whole matrix is never gathered)."""
        if batch < 1:
            raise InputError(f"batch must be at least 1, got {batch}.")
        self.generation  # noqa: B018 - refreshes the snapshot
        snap = self._snapshot()
        for start in range(0, len(snap.ids), batch):
            stop = min(start + batch, len(snap.ids))
            yield snap.ids[start:stop], snap.rows.take(np.arange(start, stop))

    def vectors_of(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of the chunks ``ids`` (in the order given), read from the mapped
        segments: only those rows, never the whole matrix.

        :raises InputError: when an id is not in the index.
        """
        snap = self._snapshot()
        want = np.asarray(ids, dtype=np.int64).reshape(-1)
        pos = np.minimum(np.searchsorted(snap.ids, want), max(len(snap.ids) - 1, 0))
        missing = want if not len(snap.ids) else want[snap.ids[pos] != want]
        if len(missing):
            raise InputError(
                f"Index {self.name!r} has no chunk with id {int(missing[0])}: ids come from "
                "its search results or chunk_ids()."
            )
        return snap.rows.take(pos)

    def texts(self) -> list[str]:
        """Every chunk's text, aligned with :meth:`chunk_ids` (read from SQLite on each call,
        not kept: for building a keyword index or an evaluation collection; a query reads
        its hits with :meth:`get_chunks`)."""
        return [c.text for c in self._whole()]

    def vectors(self) -> np.ndarray:
        """All vectors as one read-only matrix: the mapped segment itself when one segment
        holds every row in order, else a gathered copy (queries never need it: they scan
        the mapped segments through :meth:`Snapshot.rows`)."""
        return self._snapshot().vectors

    def metadata(self) -> list[dict[str, Any]]:
        """Every chunk's ``{"source", "title", **metadata}`` (read from SQLite on each call,
        not kept; filters are answered by SQLite, see :meth:`filter_rows`)."""
        return [{"source": c.source, "title": c.title, **c.metadata} for c in self._whole()]

    def _whole(self) -> list[Chunk]:
        """Every chunk of the snapshot, in row order."""
        snap = self._snapshot()
        by_id = {c.id: c for c in self._fetch(snap.ids.tolist())}
        missing = [int(i) for i in snap.ids if int(i) not in by_id]
        if missing:
            raise StoreError(
                f"Index {self.name!r} has no chunk(s) {missing[:5]}: they were removed by an "
                "update since this snapshot; read index.generation and read again."
            )
        return [by_id[int(i)] for i in snap.ids]

    def filter_rows(self, expr: Filter) -> np.ndarray:
        """Row positions (ascending) of the snapshot's chunks that pass ``expr``, selected
        by SQLite (:func:`embedlab.stores.filter_sql.matching_ids`).

        :raises InputError: when the expression reads a field no chunk has.
        """
        from embedlab.stores.filter_sql import matching_ids

        snap = self._snapshot()
        with self._lock:
            found = matching_ids(self._conn, expr)
        kept = found[np.isin(found, snap.ids)]  # rows committed after the snapshot: not in it
        return np.searchsorted(snap.ids, kept).astype(np.int64)

    def get_chunks(self, ids: Sequence[int]) -> list[Chunk]:
        wanted = [int(i) for i in ids]
        by_id = {c.id: c for c in self._fetch(wanted)}
        missing = [i for i in wanted if i not in by_id]
        if missing:
            raise StoreError(
                f"Index {self.name!r} has no chunk(s) {missing[:5]}: they were removed by an "
                "update since this snapshot; read index.generation and search again."
            )
        return [by_id[i] for i in wanted]

    def _fetch(self, ids: list[int]) -> list[Chunk]:
        out: list[Chunk] = []
        with self._lock:
            for start in range(0, len(ids), 30000):
                part = ids[start : start + 30000]
                marks = ",".join("?" * len(part))
                rows = self._conn.execute(
                    "SELECT c.id, c.doc_id, c.text, d.path, c.record, c.seq, c.start_char, "
                    "c.end_char, c.title, c.metadata FROM chunks c JOIN documents d "
                    f"ON d.id = c.doc_id WHERE c.id IN ({marks})",
                    part,
                ).fetchall()
                for r in rows:
                    out.append(
                        Chunk(
                            id=r[0],
                            doc_id=r[1],
                            text=r[2],
                            source=r[3],
                            position={"record": r[4], "chunk": r[5], "start": r[6], "end": r[7]},
                            title=r[8],
                            metadata=json.loads(r[9]),
                        )  # fmt: skip
                    )
        return out

    # --- info -------------------------------------------------------------------------
    def stats(self) -> IndexStats:
        with self._lock:
            docs = self._conn.execute("SELECT count(*) FROM documents WHERE complete=1").fetchone()
            chunks = self._conn.execute("SELECT count(*) FROM chunks").fetchone()
            meta = read_meta(self._conn)
        size = sum(p.stat().st_size for p in self._folder.rglob("*") if p.is_file())
        return IndexStats(
            name=self.name,
            model=str(meta["model"]),
            fingerprint=str(meta["fingerprint"]),
            dims=self.dims,
            documents=int(docs[0]),
            chunks=int(chunks[0]),
            bytes_on_disk=size,
            generation=int(meta.get("generation", 0)),
            chunking=dict(meta.get("chunking", {})),
            sources=list(meta.get("sources", [])),
            model_info=dict(meta["model_info"]),
            created=str(meta.get("created", "")),
            updated=str(meta.get("updated", "")),
            dense_search=self._dense_search(),
        )

    def _dense_search(self) -> dict[str, Any]:
        """How a dense query runs now (see :attr:`IndexStats.dense_search`)."""
        from embedlab.stores.ann import describe
        from embedlab.stores.dense import ANN_THRESHOLD

        self.generation  # noqa: B018 - refreshes the snapshot
        snap = self._snapshot()
        if len(snap.ids) < ANN_THRESHOLD:
            return {"method": "exact", "ann_threshold": ANN_THRESHOLD}
        ann = describe(self._folder, snap.generation, snap.ids)
        return {"method": "ivf", "ann_threshold": ANN_THRESHOLD, "ann": ann}

    def documents(self) -> list[dict[str, Any]]:
        """One row per indexed document: path, hash, chunks."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, path, hash, chunks FROM documents WHERE complete=1 ORDER BY path"
            ).fetchall()
        return [{"id": r[0], "path": r[1], "hash": r[2], "chunks": r[3]} for r in rows]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()


__all__ = [
    "DB_NAME",
    "LOCK_NAME",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SEGMENTS",
    "EmbeddedIndex",
    "SNAPSHOT_CACHE",
    "UNIT_SUFFIX",
    "SegmentRows",
    "Snapshot",
    "check_name",
    "connect",
    "index_folder",
    "indexes_root",
    "open_segment",
    "read_meta",
    "read_segments",
    "segment_rows",
    "unit_segment",
]
