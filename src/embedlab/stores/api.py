"""Create, update, open, list and drop embedded indexes.

``create_index`` and ``update_index`` hold the index's write lock for the whole run; a
second writer waits :data:`~embedlab.stores.lock.DEFAULT_WAIT` seconds and is refused with
:class:`~embedlab.errors.IndexLockedError`. Readers (``open_index``) never take the lock.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from embedlab.errors import (
    DiskFullError,
    FingerprintMismatchError,
    IndexExistsError,
    IndexNotFoundError,
    InputError,
    ReadOnlyStoreError,
    StoreError,
)
from embedlab.models import Encoder, load_model
from embedlab.stores.base import IndexStats, build_description
from embedlab.stores.cache import refresh_ann
from embedlab.stores.chunking import Chunker, ChunkSettings
from embedlab.stores.db import (
    DB_NAME,
    LOCK_NAME,
    SCHEMA,
    SCHEMA_VERSION,
    SEGMENTS,
    can_write,
    check_schema,
    connect,
    migrate,
    read_meta,
    store_error,
)
from embedlab.stores.embedded import EmbeddedIndex, exists, forget, index_folder, indexes_root
from embedlab.stores.ingest import ReadOptions, SkipFile, Skipped, discover, probe, readable
from embedlab.stores.lock import DEFAULT_WAIT, WriteLock
from embedlab.stores.milvus import MilvusIndex
from embedlab.stores.snapshot import gather_rows, read_segments
from embedlab.stores.write_run import FileJob, Progress, WriteReport, file_digest
from embedlab.stores.writer import IndexWriter, bump_generation, run_jobs, write_segment

#: compact the segments when more than this many exist, or when this share of rows is dead.
MAX_SEGMENTS = 16
MAX_DEAD_SHARE = 0.3


@dataclass(frozen=True)
class _Doc:
    id: int
    hash: str
    mtime_ns: int
    size: int
    complete: bool


def open_index(name: str, store: str | None = None) -> EmbeddedIndex | MilvusIndex:
    """Open index ``name`` for reading (in ``store``, else wherever it was created: see
    :func:`embedlab.stores.milvus_writer.resolve`).

    :raises IndexNotFoundError: when there is no such index.
    """
    where = _server_store(name, store)
    if where is not None:
        return MilvusIndex(name, where)
    return EmbeddedIndex(name)


def _server_store(name: str, store: str | None, *, new: bool = False) -> str | None:
    """The Milvus URI holding (or to hold, with ``new``) index ``name``; ``None``: embedded."""
    from embedlab.stores.milvus_writer import resolve

    return resolve(name, store, exists(name) if not new else False, new=new)


@dataclass(frozen=True)
class IndexEntry:
    """One index as ``index list`` shows it: its stats, or why it cannot be read."""

    name: str
    stats: IndexStats | None
    problem: str = ""


def survey_indexes() -> list[IndexEntry]:
    """Every index under ``home()/indexes`` and in the known Milvus stores, sorted by name;
    a damaged (or unreachable) one carries the reason instead of stats (it never hides the
    others)."""
    from embedlab.stores.milvus_writer import survey_milvus

    out: list[IndexEntry] = _survey_embedded()
    out += [IndexEntry(n, s, p) for n, s, p in survey_milvus()]
    return sorted(out, key=lambda e: e.name)


def _survey_embedded() -> list[IndexEntry]:
    out: list[IndexEntry] = []
    root = indexes_root()
    if not root.is_dir():
        return out
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if not (folder / DB_NAME).exists():
            continue
        try:
            index = open_index(folder.name)
        except IndexNotFoundError:
            continue  # a create killed before its first commit: not an index yet
        except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
            out.append(IndexEntry(folder.name, None, _reason(exc)))
            continue
        try:
            out.append(IndexEntry(folder.name, index.stats()))
        except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
            out.append(IndexEntry(folder.name, None, _reason(exc)))
        finally:
            index.close()
    return out


def _reason(exc: BaseException) -> str:
    if isinstance(exc, StoreError):
        return str(exc)
    return f"cannot be read ({type(exc).__name__}: {exc})"


def list_indexes() -> list[str]:
    """Names of the indexes that can be opened, sorted (:func:`survey_indexes` also lists
    the damaged ones, with the reason)."""
    return [e.name for e in survey_indexes() if e.stats is not None]


def drop_index(name: str, *, wait: float = DEFAULT_WAIT) -> None:
    """Delete index ``name`` and its folder (refused while another process writes to it).

    A damaged index (unreadable database, bad segments) can be dropped too.

    :raises ReadOnlyStoreError: when the folder cannot be written.
    """
    if (where := _server_store(name, None)) is not None:
        from embedlab.stores.milvus_writer import drop_milvus

        return drop_milvus(name, where)
    folder = index_folder(name)
    if not folder.is_dir() or not ((folder / DB_NAME).exists() or (folder / SEGMENTS).exists()):
        raise IndexNotFoundError(f"No index named {name!r}: nothing to drop (see 'index list').")
    why = can_write(folder.parent) or can_write(folder)
    if why is not None:
        raise ReadOnlyStoreError(f"Index {name!r} cannot be dropped: {why}.")
    with WriteLock(folder / LOCK_NAME, name, wait):
        shutil.rmtree(folder)
    forget(folder)


def _encoder(model: str | Encoder) -> Encoder:
    return load_model(model) if isinstance(model, str) else model


def create_index(
    name: str,
    sources: Sequence[str | Path],
    model: str | Encoder = "minilm",
    *,
    chunking: ChunkSettings | None = None,
    text_field: str = "text",
    title_field: str = "title",
    progress: Progress | None = None,
    wait: float = DEFAULT_WAIT,
    store: str | None = None,
) -> EmbeddedIndex | MilvusIndex:
    """Create index ``name`` from files and folders, embedding each chunk once, in
    ``store`` (``embedded``, ``milvus://HOST:PORT``; default: the ``store`` setting).

    The returned index carries the run's :class:`WriteReport` as ``.report``.

    :raises IndexExistsError: when the index exists (use :func:`update_index` or drop it).
    :raises InputError: when no source is given or nothing under them is readable.
    """
    if (where := _server_store(name, store, new=True)) is not None:
        from embedlab.stores.milvus_writer import create_milvus

        settings = (chunking or ChunkSettings()).validate(None)
        return create_milvus(name, sources, where, _encoder(model), chunking=settings,
                             text_field=text_field, title_field=title_field, progress=progress)  # fmt: skip
    if not sources:
        raise InputError("No sources given: name at least one file or folder to index.")
    folder = index_folder(name)
    why = can_write(folder)
    if why is not None:
        raise ReadOnlyStoreError(f"Index {name!r} cannot be created: {why}.")
    encoder = _encoder(model)
    settings = (chunking or ChunkSettings()).validate(encoder.info.max_tokens)
    files, skipped = discover(sources)
    ok = readable(sources, files, skipped)
    if exists(name):
        raise IndexExistsError(
            f"Index {name!r} already exists: run 'embedlab index update {name}', or drop it first."
        )
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        report = _create(folder, name, sources, encoder, settings, text_field, title_field,
                         ok, skipped, progress, wait)  # fmt: skip
    except (OSError, sqlite3.Error, DiskFullError, ReadOnlyStoreError) as exc:
        after = f"index {name!r} was not created"
        error = store_error(exc, folder / DB_NAME, name, after)
        if not isinstance(error, (DiskFullError, ReadOnlyStoreError)):
            raise
        if made:  # the index is as it was before: absent (and the space is freed)
            shutil.rmtree(folder, ignore_errors=True)
            forget(folder)
        raise error from None
    index = EmbeddedIndex(name)
    _refresh_ann(index, report, progress)
    index.report = report
    return index


def _create(
    folder: Path,
    name: str,
    sources: Sequence[str | Path],
    encoder: Encoder,
    settings: ChunkSettings,
    text_field: str,
    title_field: str,
    readable: list[Path],
    skipped: list[Skipped],
    progress: Progress | None,
    wait: float,
) -> WriteReport:
    """The part of :func:`create_index` that holds the write lock."""
    chunker = Chunker(encoder, settings)
    with WriteLock(folder / LOCK_NAME, name, wait):
        if exists(name):
            raise IndexExistsError(f"Index {name!r} was just created by another process.")
        conn = connect(folder, write=True, name=name, after=f"index {name!r} was not created")
        try:
            meta = {
                "schema_version": SCHEMA_VERSION,
                "engine": "embedded",
                **build_description(name, encoder, settings, sources, text_field, title_field),
                # starts from the clock: an index dropped and created again under the same
                # name never repeats a generation, so caches keyed by it cannot go stale
                "generation": time.time_ns() // 1_000_000,
            }
            conn.executescript(SCHEMA)
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in meta.items()],
            )
            conn.execute("COMMIT")
            options = ReadOptions(text_field, title_field)
            report = WriteReport(skipped=list(skipped))
            _sync(folder, conn, encoder, chunker, options, readable, report, progress)
        finally:
            conn.close()
    return report


def update_index(
    name: str,
    model: str | Encoder | None = None,
    *,
    progress: Progress | None = None,
    wait: float = DEFAULT_WAIT,
) -> WriteReport:
    """Re-read the sources of index ``name``: embed new and changed chunks, drop removed files.

    Also finishes a create or update that was interrupted (killed) before it committed.

    :raises FingerprintMismatchError: when ``model`` is not the index's model.
    """
    if (where := _server_store(name, None)) is not None:
        from embedlab.stores.milvus_writer import update_milvus

        return update_milvus(name, where, model, progress=progress)
    folder = index_folder(name)
    if not exists(name):
        raise IndexNotFoundError(
            f"No index named {name!r}: create it with 'embedlab index create {name} PATH...'."
        )
    why = can_write(folder)
    if why is not None:
        raise ReadOnlyStoreError(
            f"Index {name!r} cannot be updated: {why}. Reading it (list, info, search, "
            "check) still works."
        )
    with WriteLock(folder / LOCK_NAME, name, wait):
        conn = connect(folder, write=True, name=name)
        try:
            meta = read_meta(conn)
            check_schema(meta, name)
            encoder = _encoder(model if model is not None else str(meta["model"]))
            if encoder.info.fingerprint != meta["fingerprint"]:
                raise FingerprintMismatchError(
                    f"Index {name!r} was built with model {meta['model']!r} (fingerprint "
                    f"{meta['fingerprint']}); {encoder.info.name!r} has fingerprint "
                    f"{encoder.info.fingerprint}. Update it with its own model, or build a new index."
                )
            chunker = Chunker(encoder, ChunkSettings(**meta["chunking"]))
            options = ReadOptions(**meta.get("read_options", {}))
            files, skipped = discover(meta["sources"])
            report = WriteReport(skipped=list(skipped))
            try:
                migrate(conn, name)
                _sync(folder, conn, encoder, chunker, options, files, report, progress)
            except (OSError, sqlite3.Error) as exc:
                after = (
                    f"index {name!r} keeps its last committed state ({report.files_indexed} "
                    "file(s) of this run were committed before; the rest was rolled back). "
                    f"Then run 'embedlab index update {name}'"
                )
                error = store_error(exc, folder / DB_NAME, name, after)
                if error is None:
                    raise
                raise error from None
        finally:
            conn.close()
    index = EmbeddedIndex(name)
    try:
        _refresh_ann(index, report, progress)  # after the write lock: other writers go on
    finally:
        index.close()
    return report


def _refresh_ann(index: EmbeddedIndex, report: WriteReport, progress: Progress | None) -> None:
    """Bring the ANN file up to the committed generation (see
    :func:`embedlab.stores.cache.refresh_ann`), in the command that changed the index
    rather than in the first query after it; its time is part of ``report.seconds``. A
    ``progress`` with a ``stage(message)`` method is told when that step starts. A file
    that cannot be written is left to the next query (the index is committed)."""
    t0 = time.perf_counter()
    with contextlib.suppress(OSError):
        report.ann = refresh_ann(index, getattr(progress, "stage", None))
    report.ann_seconds = time.perf_counter() - t0
    report.seconds += report.ann_seconds


def _sync(
    folder: Path,
    conn: sqlite3.Connection,
    encoder: Encoder,
    chunker: Chunker,
    options: ReadOptions,
    files: Iterable[Path],
    report: WriteReport,
    progress: Progress | None,
) -> None:
    """Bring the index in line with ``files``, filling ``report`` (the caller holds the
    write lock)."""
    t0 = time.perf_counter()
    cleanup(folder, conn)
    jobs, existing = _plan(conn, files, report)
    writer = IndexWriter(folder, conn, encoder, chunker, options, report)
    try:
        run_jobs(writer, jobs, progress)
    except BaseException:
        with contextlib.suppress(OSError, sqlite3.Error):  # keep the first error
            writer.rollback()
        raise
    if existing:  # removed files: last, so a moved file could reuse their vectors
        ids = [(d.id,) for d in existing.values()]
        conn.execute("BEGIN IMMEDIATE")
        removed = sum(conn.execute("DELETE FROM chunks WHERE doc_id=?", i).rowcount for i in ids)
        conn.executemany("DELETE FROM documents WHERE id=?", ids)
        bump_generation(conn)
        conn.execute("COMMIT")
        report.files_removed = len(ids)
        report.chunks_removed += removed
    cleanup(folder, conn)
    report.seconds = time.perf_counter() - t0


def _plan(
    conn: sqlite3.Connection, files: Iterable[Path], report: WriteReport
) -> tuple[list[FileJob], dict[str, _Doc]]:
    """The files to (re)index, and the indexed documents no longer among ``files``."""
    existing = {
        p: _Doc(i, h, m, s, bool(c))
        for i, p, h, m, s, c in conn.execute(
            "SELECT id, path, hash, mtime_ns, size, complete FROM documents"
        )
    }
    jobs: list[FileJob] = []
    touched: list[tuple[int, int, int]] = []
    for f in files:
        doc = existing.pop(str(f), None)
        try:
            st = f.stat()
        except OSError as exc:  # gone or a broken link since it was found
            report.skipped.append(Skipped(str(f), f"cannot be read: {exc.strerror or exc}"))
            if doc:
                existing[str(f)] = doc
            continue
        if doc and doc.complete and (doc.size, doc.mtime_ns) == (st.st_size, st.st_mtime_ns):
            report.files_unchanged += 1
            continue
        try:
            probe(f)
        except SkipFile as exc:
            if not any(s.path == str(f) for s in report.skipped):
                report.skipped.append(Skipped(str(f), str(exc)))
            if doc:
                existing[str(f)] = doc  # was indexed, now unreadable: drop it
            continue
        digest = file_digest(f)
        if doc and doc.complete and doc.hash == digest:
            touched.append((st.st_mtime_ns, st.st_size, doc.id))
            report.files_unchanged += 1
            continue
        jobs.append(FileJob(f, doc.id if doc else None, digest, st.st_mtime_ns, st.st_size))
    if touched:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("UPDATE documents SET mtime_ns=?, size=? WHERE id=?", touched)
        conn.execute("COMMIT")
    return jobs, existing


def cleanup(folder: Path, conn: sqlite3.Connection) -> None:
    """Delete orphan and dead segment files; compact when segments are many or mostly dead.

    Orphans are files of a run that was killed before it committed. Compaction writes the
    live vectors to one new segment and repoints the rows in one transaction; the chunk
    ids, texts and vectors do not change, so the generation does not either.
    """
    seg_dir = folder / SEGMENTS
    seg_dir.mkdir(exist_ok=True)
    known = {f for (f,) in conn.execute("SELECT file FROM segments")}
    for path in seg_dir.iterdir():
        if path.name not in known:
            path.unlink(missing_ok=True)
    dead = conn.execute(
        "SELECT id, file FROM segments WHERE id NOT IN (SELECT DISTINCT segment FROM chunks)"
    ).fetchall()
    if dead:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("DELETE FROM segments WHERE id=?", [(i,) for i, _ in dead])
        conn.execute("COMMIT")
        for _, f in dead:
            (seg_dir / f).unlink(missing_ok=True)
    n_segs, total = conn.execute("SELECT count(*), coalesce(sum(rows), 0) FROM segments").fetchone()
    live = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
    if n_segs > MAX_SEGMENTS or (total and live < (1 - MAX_DEAD_SHARE) * total):
        _compact(folder, conn)


def _compact(folder: Path, conn: sqlite3.Connection) -> None:
    import numpy as np

    rows = conn.execute("SELECT id, segment, row FROM chunks ORDER BY id").fetchall()
    segs = read_segments(conn)
    old = [f for f, _, _ in segs.values()]
    dims = int(
        json.loads(conn.execute("SELECT value FROM meta WHERE key='model_info'").fetchone()[0])[
            "dims"
        ]
    )
    seg_col = np.array([r[1] for r in rows], dtype=np.int64)
    row_col = np.array([r[2] for r in rows], dtype=np.int64)
    matrix = np.array(gather_rows(folder, segs, seg_col, row_col, dims))
    name, digest = write_segment(folder, matrix)
    conn.execute("BEGIN IMMEDIATE")
    seg_id = conn.execute(
        "INSERT INTO segments(file, rows, dims, sha256) VALUES (?, ?, ?, ?)",
        (name, len(matrix), dims, digest),
    ).lastrowid
    conn.executemany(
        "UPDATE chunks SET segment=?, row=? WHERE id=?",
        [(seg_id, n, r[0]) for n, r in enumerate(rows)],
    )
    conn.execute("DELETE FROM segments WHERE id != ?", (seg_id,))
    conn.execute("COMMIT")
    for f in old:
        (folder / SEGMENTS / f).unlink(missing_ok=True)


__all__ = [
    "DB_NAME",
    "IndexEntry",
    "cleanup",
    "create_index",
    "drop_index",
    "list_indexes",
    "open_index",
    "survey_indexes",
    "update_index",
]
