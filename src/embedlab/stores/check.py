"""``embedlab index check``: is an index whole? Row counts, segment files against what was
recorded at commit (shape, size, sha256), SQLite's integrity check and the model fingerprint.

Reading never hashes segments (queries stay as fast as before); this is where the checksums
recorded by the writer are compared. Every problem names the file and what to do; nothing
here raises a numpy or SQLite error at the caller.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from embedlab.errors import IndexNotFoundError, StoreError
from embedlab.models.base import ModelInfo
from embedlab.stores.db import (
    DB_NAME,
    SCHEMA_VERSION,
    SEGMENTS,
    connect,
    read_meta,
    rebuild_hint,
    schema_version,
)
from embedlab.stores.embedded import index_folder


@dataclass
class SegmentCheck:
    """One segment file: what the database recorded and what is on disk."""

    file: str
    rows: int
    dims: int
    bytes: int = 0
    sha256: str = ""
    status: str = "ok"


@dataclass
class CheckReport:
    """What ``index check`` found. ``ok`` is ``True`` when ``problems`` is empty."""

    name: str
    folder: str
    schema_version: int = 0
    model: str = ""
    fingerprint: str = ""
    integrity: str = ""
    documents: int = 0
    chunks: int = 0
    segments: list[SegmentCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {**asdict(self), "ok": self.ok}


def check_index(name: str) -> CheckReport:
    """Check index ``name`` end to end (read-only; hashes every segment).

    :raises IndexNotFoundError: when there is no such index folder.
    """
    folder = index_folder(name)
    db = folder / DB_NAME
    if not db.exists():
        from embedlab.stores.milvus_writer import check_milvus, find_store

        if (store := find_store(name)) is not None:  # an index in Milvus
            return cast(CheckReport, check_milvus(name, store))
        raise IndexNotFoundError(f"No index named {name!r} (see 'embedlab index list').")
    report = CheckReport(name, str(folder))
    hint = rebuild_hint(name)
    try:
        conn = connect(folder, name=name)
    except StoreError as exc:
        report.problems.append(str(exc))
        return report
    try:
        _check_database(conn, db, report, hint)
        if report.problems:
            return report
        _check_rows(conn, db, report, hint)
        _check_segments(conn, folder, report, hint)
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"{db}: cannot be read ({exc}); {hint}.")
    finally:
        conn.close()
    return report


def _check_database(conn: sqlite3.Connection, db: Path, report: CheckReport, hint: str) -> None:
    """SQLite's integrity check, the schema version and the recorded fingerprint."""
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"{db}: not a readable SQLite database ({exc}); {hint}.")
        return
    report.integrity = "; ".join(rows[:5])
    if rows != ["ok"]:
        report.problems.append(
            f"{db}: SQLite's integrity check failed ({report.integrity}); {hint}."
        )
        return
    meta = read_meta(conn)
    report.schema_version = schema_version(meta)
    if report.schema_version > SCHEMA_VERSION:
        report.problems.append(
            f"{db}: store schema {report.schema_version} is newer than this embedlab's "
            f"({SCHEMA_VERSION}): upgrade embedlab."
        )
        return
    if report.schema_version < SCHEMA_VERSION:
        report.notes.append(
            f"store schema {report.schema_version} (this embedlab writes {SCHEMA_VERSION}): "
            "the next 'index update' upgrades it."
        )
    report.model = str(meta.get("model", ""))
    report.fingerprint = str(meta.get("fingerprint", ""))
    info = meta.get("model_info")
    if not report.model or not report.fingerprint or not isinstance(info, dict):
        report.problems.append(f"{db}: the model or its fingerprint is missing from meta; {hint}.")
        return
    try:
        recomputed = ModelInfo(**{k: v for k, v in info.items() if k != "fingerprint"}).fingerprint
    except TypeError:
        recomputed = ""
    if recomputed != report.fingerprint or info.get("fingerprint") != report.fingerprint:
        report.problems.append(
            f"{db}: the recorded fingerprint {report.fingerprint} does not match the recorded "
            f"model description (fingerprint {recomputed or '?'}): the meta table was edited; "
            f"{hint}."
        )


def _check_rows(conn: sqlite3.Connection, db: Path, report: CheckReport, hint: str) -> None:
    """Counts, and every chunk row pointing at a row that exists."""
    report.documents = conn.execute("SELECT count(*) FROM documents WHERE complete=1").fetchone()[0]
    report.chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
    bad_counts = conn.execute(
        "SELECT d.path, d.chunks, count(c.id) FROM documents d LEFT JOIN chunks c "
        "ON c.doc_id = d.id WHERE d.complete=1 GROUP BY d.id HAVING d.chunks != count(c.id)"
    ).fetchall()
    for path, want, got in bad_counts[:5]:
        report.problems.append(f"{db}: {path} should have {want} chunks, has {got}; {hint}.")
    dangling = conn.execute(
        "SELECT count(*) FROM chunks c LEFT JOIN segments s ON s.id = c.segment "
        "WHERE s.id IS NULL OR c.row < 0 OR c.row >= s.rows"
    ).fetchone()[0]
    if dangling:
        report.problems.append(
            f"{db}: {dangling} chunk(s) point at a vector that no segment holds; {hint}."
        )
    orphans = conn.execute(
        "SELECT count(*) FROM chunks c LEFT JOIN documents d ON d.id = c.doc_id WHERE d.id IS NULL"
    ).fetchone()[0]
    if orphans:
        report.problems.append(f"{db}: {orphans} chunk(s) belong to no document; {hint}.")


def _check_segments(conn: sqlite3.Connection, folder: Path, report: CheckReport, hint: str) -> None:
    """Each segment file against its recorded shape, size and sha256."""
    cols = {r[1] for r in conn.execute("PRAGMA table_info(segments)")}
    digest_col = "sha256" if "sha256" in cols else "''"
    recorded = conn.execute(f"SELECT file, rows, dims, {digest_col} FROM segments").fetchall()
    unrecorded = 0
    for file, rows, dims, digest in recorded:
        seg = SegmentCheck(str(file), int(rows), int(dims))
        report.segments.append(seg)
        path = folder / SEGMENTS / seg.file
        problem = _segment_problem(path, seg, str(digest))
        if problem:
            seg.status = problem
            report.problems.append(f"{path}: {problem}; {hint}.")
        elif not digest:
            unrecorded += 1
    if unrecorded:
        report.notes.append(
            f"{unrecorded} segment(s) were written before checksums were recorded (schema 1): "
            "their shape and size were checked, their bytes could not be."
        )
    known = {s.file for s in report.segments}
    seg_dir = folder / SEGMENTS
    extra = [p.name for p in seg_dir.iterdir() if p.name not in known] if seg_dir.is_dir() else []
    if extra:
        report.notes.append(
            f"{len(extra)} file(s) in {seg_dir} belong to no commit (an interrupted run): "
            "the next 'index update' deletes them."
        )


def _segment_problem(path: Path, seg: SegmentCheck, recorded: str) -> str:
    """Why the segment file does not match the record ("" when it does)."""
    if not path.is_file():
        return "is missing"
    seg.bytes = path.stat().st_size
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            offset = f.tell()
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        return f"is not a readable .npy file ({exc})"
    if dtype != np.float32 or fortran or tuple(shape) != (seg.rows, seg.dims):
        return f"holds {dtype} {tuple(shape)}, not the float32 ({seg.rows}, {seg.dims}) recorded"
    expected = offset + seg.rows * seg.dims * 4
    if seg.bytes != expected:
        return f"is {seg.bytes} bytes, not the {expected} written at commit (truncated or extended)"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    seg.sha256 = h.hexdigest()
    if recorded and seg.sha256 != recorded:
        return "its sha256 differs from the one recorded at commit (its bytes were changed)"
    return ""


__all__ = ["CheckReport", "SegmentCheck", "check_index"]
