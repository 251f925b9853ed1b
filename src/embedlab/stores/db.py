"""The SQLite side of the embedded store: schema, its version and migrations, connections.

Connections: :func:`connect` opens the database in WAL mode when the index folder can be
written, and read-only otherwise (a read-only home or mount, a folder of another user):
SQLite's ``mode=ro`` URI, or ``immutable=1`` when no ``-wal`` file exists (a WAL database
cannot otherwise be opened where its ``-shm`` file cannot be created). Read commands work
either way; writes are refused with :class:`~embedlab.errors.ReadOnlyStoreError`.

Versions: ``meta.schema_version`` is checked on every open. An index written by a newer
embedlab (a version above :data:`SCHEMA_VERSION`) is refused with a clear error; an older
one is read as it is and upgraded by the next writer through :data:`MIGRATIONS`.

Faults: :func:`store_error` turns an ``OSError`` or ``sqlite3.Error`` met while writing into
one clear :class:`~embedlab.errors.StoreError` (disk full, read-only, damaged file).
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from embedlab.errors import DiskFullError, IndexDamagedError, ReadOnlyStoreError, StoreError

#: the schema this code writes. 1: the first store; 2: ``segments.sha256`` (checksums);
#: 3: ``documents.done_units/done_char/done_chunks`` (how far a big file got: resume point).
SCHEMA_VERSION = 3
DB_NAME = "index.sqlite"
SEGMENTS = "segments"
LOCK_NAME = "write.lock"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    chunks INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    done_units INTEGER NOT NULL DEFAULT 0,
    done_char INTEGER NOT NULL DEFAULT -1,
    done_chunks INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file TEXT NOT NULL UNIQUE,
    rows INTEGER NOT NULL,
    dims INTEGER NOT NULL,
    sha256 TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id INTEGER NOT NULL REFERENCES documents(id),
    record INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    text TEXT NOT NULL,
    title TEXT NOT NULL,
    metadata TEXT NOT NULL,
    hash TEXT NOT NULL,
    segment INTEGER NOT NULL REFERENCES segments(id),
    row INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(hash);
CREATE INDEX IF NOT EXISTS chunks_segment ON chunks(segment);
"""


def _add_segment_checksums(conn: sqlite3.Connection) -> None:
    """1 -> 2: a ``sha256`` column on segments (empty for segments written before it)."""
    cols = {r[1] for r in conn.execute("PRAGMA table_info(segments)")}
    if "sha256" not in cols:
        conn.execute("ALTER TABLE segments ADD COLUMN sha256 TEXT NOT NULL DEFAULT ''")


def _add_progress_columns(conn: sqlite3.Connection) -> None:
    """2 -> 3: how far an unfinished document got, committed at each checkpoint of a big
    file: ``done_units`` records of the file chunked (JSONL/CSV rows, PDF pages...), or for
    a text file ``done_char``, the character of the file where its chunks go on (-1: not a
    text file); ``done_chunks`` chunks committed."""
    cols = {r[1] for r in conn.execute("PRAGMA table_info(documents)")}
    for col, default in (("done_units", 0), ("done_char", -1), ("done_chunks", 0)):
        if col not in cols:
            conn.execute(
                f"ALTER TABLE documents ADD COLUMN {col} INTEGER NOT NULL DEFAULT {default}"
            )


#: version -> the function that upgrades a database of version - 1 to it (run in order,
#: each in the writer's transaction, by :func:`migrate`).
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _add_segment_checksums,
    3: _add_progress_columns,
}


def rebuild_hint(name: str) -> str:
    """What to do about a damaged index."""
    return (
        f"drop it with 'embedlab index drop {name}' and build it again with "
        f"'embedlab index create {name} PATH...' ('embedlab index check {name}' lists what "
        "is wrong)"
    )


def can_write(folder: Path) -> str | None:
    """``None`` when ``folder`` (and its database) can be written, else why not.

    ``os.access`` sees a read-only mount (``EROFS``) even for root, and permission bits for
    other users.
    """
    probe = folder if folder.exists() else folder.parent
    if not os.access(probe, os.W_OK):
        ro = _read_only_mount(probe)
        return f"{probe} is on a read-only file system" if ro else f"{probe} is not writable"
    db = folder / DB_NAME
    if db.exists() and not os.access(db, os.W_OK):
        return f"{db} is not writable"
    return None


def _read_only_mount(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def connect(
    folder: Path, *, write: bool = False, name: str = "", after: str = ""
) -> sqlite3.Connection:
    """A connection to the index database; transactions are explicit.

    WAL mode when the folder can be written; read-only (``mode=ro``, or ``immutable=1``
    when there is no ``-wal`` file) when it cannot.

    :param write: the caller will write: refuse with :class:`ReadOnlyStoreError` if it
        cannot.
    :param after: the state the index is left in, for the message of a full disk.
    :raises IndexDamagedError: when the database file is not a readable SQLite database.
    """
    db = folder / DB_NAME
    why = can_write(folder)
    label = name or folder.name
    if write and why is not None:
        raise ReadOnlyStoreError(
            f"Index {label!r} cannot be changed: {why}. Reading it (list, info, search, check) "
            "still works; to change it, make the folder writable or point EMBEDLAB_HOME at "
            "a writable copy."
        )
    try:
        if why is None:
            conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        else:
            wal = db.with_name(DB_NAME + "-wal")
            mode = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
            uri = f"file:{quote(str(db))}?{mode}"
            conn = sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA busy_timeout=30000")
    except sqlite3.DatabaseError as exc:
        error = store_error(exc, db, label, after or f"index {label!r} was not changed")
        raise (error or damaged(label, db, exc)) from None
    return conn


def damaged(name: str, path: Path, exc: BaseException | str) -> IndexDamagedError:
    """The error for a damaged file of index ``name``."""
    return IndexDamagedError(
        f"Index {name!r} is damaged: {path}: {exc}. To fix it, {rebuild_hint(name)}."
    )


def read_meta(conn: sqlite3.Connection) -> dict[str, Any]:
    """All meta keys, JSON-decoded."""
    return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}


def schema_version(meta: dict[str, Any]) -> int:
    """The schema version recorded in ``meta`` (1 when missing: the first store)."""
    try:
        return int(meta.get("schema_version", 1))
    except (TypeError, ValueError):
        return -1


def check_schema(meta: dict[str, Any], name: str) -> None:
    """Refuse an index whose schema this code does not know.

    :raises StoreError: for a version above :data:`SCHEMA_VERSION` (a newer embedlab wrote
        it) or an unreadable one.
    """
    version = schema_version(meta)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"Index {name!r} was written by a newer embedlab (store schema {version}; this "
            f"version reads up to {SCHEMA_VERSION}). Upgrade embedlab to read it, or "
            f"{rebuild_hint(name)}."
        )
    if version < 1:
        raise IndexDamagedError(
            f"Index {name!r} has an unreadable schema version "
            f"{meta.get('schema_version')!r}. To fix it, {rebuild_hint(name)}."
        )


def migrate(conn: sqlite3.Connection, name: str) -> int:
    """Upgrade the database to :data:`SCHEMA_VERSION` (the caller holds the write lock).

    :return: the version it had before.
    """
    before = schema_version(read_meta(conn))
    for version in range(before + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](conn)
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                (json.dumps(version),),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return before


_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


def store_error(exc: BaseException, path: Path, name: str, after: str) -> StoreError | None:
    """One clear error for an ``OSError``/``sqlite3.Error`` met while writing ``path``.

    :param after: what state the index is left in (ends the message).
    :return: ``None`` when ``exc`` is not a disk, permission or damage fault.
    """
    if isinstance(exc, StoreError):
        return exc
    where = Path(getattr(exc, "filename", None) or path)
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return DiskFullError(f"Disk full while writing {where}: {after}. Free some space first.")
    if isinstance(exc, OSError) and exc.errno in _READ_ONLY:
        return ReadOnlyStoreError(
            f"Cannot write {where} ({exc.strerror}): {after}. Make the folder writable."
        )
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code == sqlite3.SQLITE_FULL or "disk is full" in str(exc):
            return DiskFullError(f"Disk full while writing {path}: {after}. Free some space first.")
        if code == sqlite3.SQLITE_READONLY or "readonly" in str(exc):
            return ReadOnlyStoreError(f"Cannot write {path} (read-only): {after}.")
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            return damaged(name, path, exc)
    return None


__all__ = [
    "DB_NAME",
    "LOCK_NAME",
    "MIGRATIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SEGMENTS",
    "can_write",
    "check_schema",
    "connect",
    "damaged",
    "migrate",
    "read_meta",
    "rebuild_hint",
    "schema_version",
    "store_error",
]
