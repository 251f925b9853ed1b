"""Indexes made from the page: the files a request uploads (or the texts it pastes) are
written into a folder the server owns, ``home()/uploads/NAME``, and indexed from there with
the same ingest as the CLI (:func:`embedlab.stores.create_index` / ``update_index``).

A request never names a server-side path: it sends file *bodies* (bounded by the body
limit of :mod:`embedlab.server.guard`) with a file name of which only a cleaned base name
is kept. The folder stays while the index lives (``update`` re-reads it, with any files
added since) and goes with the index when it is dropped from the page.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab import settings
from embedlab.errors import IndexNotFoundError, InputError
from embedlab.stores import (
    create_index,
    drop_index,
    list_indexes,
    open_index,
    survey_indexes,
    update_index,
)

__all__ = [
    "Upload",
    "drop_web_index",
    "index_rows",
    "index_texts",
    "owned_folder",
    "stage_uploads",
]

#: what ``index_texts`` reports: (stage, fraction or None, counts).
Report = Callable[..., None]
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the browser gave it and its bytes."""

    filename: str
    data: bytes


def uploads_root() -> Path:
    """``home()/uploads``: one folder per index made from the page."""
    return settings.home() / "uploads"


def owned_folder(name: str) -> Path:
    """The folder the server owns for index ``name`` (may not exist).

    :raises InputError: a name that is not a plain index name.
    """
    if not _NAME.match(name):
        raise InputError(
            f"Invalid index name {name[:80]!r}: use letters, digits, '.', '_' or '-' (at most "
            "64, starting with a letter or digit)."
        )
    return uploads_root() / name


def is_owned(name: str) -> bool:
    """Whether index ``name`` reads its files from the server's own folder for it."""
    try:
        folder = owned_folder(name).resolve()
        sources = open_index(name).stats().sources
    except (InputError, IndexNotFoundError):
        return False
    return [str(Path(s).resolve()) for s in sources] == [str(folder)]


def clean_filename(filename: str, taken: set[str]) -> str:
    """The base name of ``filename`` with only safe characters, unique in ``taken``.

    :raises InputError: nothing is left of it (no name, or only a suffix).
    """
    base = re.split(r"[\\/]", filename.strip())[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    if not stem:
        raise InputError(
            f"Upload {filename[:80]!r} has no file name left once cleaned; name it like "
            "notes.md, data.jsonl or paper.pdf."
        )
    out, n = base, 1
    while out.lower() in taken:
        n += 1
        out = f"{stem}-{n}.{suffix}" if suffix else f"{stem}-{n}"
    taken.add(out.lower())
    return out


def decode_upload(filename: str, content: str, encoding: str) -> Upload:
    """An upload from a JSON body: ``content`` as text (``encoding`` ``text``) or base64.

    :raises InputError: base64 that does not decode, or an unknown encoding.
    """
    if encoding == "text":
        return Upload(filename, content.encode("utf-8"))
    if encoding == "base64":
        try:
            return Upload(filename, base64.b64decode(content, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise InputError(f"Upload {filename[:80]!r} is not valid base64 ({exc}).") from None
    raise InputError(f"Upload {filename[:80]!r}: encoding must be 'text' or 'base64'.")


def stage_uploads(folder: Path, uploads: list[Upload], texts: list[str]) -> list[str]:
    """Write the uploads (under cleaned names) and the pasted texts (one JSONL file, one
    record per text) into ``folder``; returns the names written.

    :raises InputError: nothing to write (no upload and no non-empty text).
    """
    texts = [t.strip() for t in texts if t.strip()]
    if not uploads and not texts:
        raise InputError(
            "Nothing to index: upload at least one file (.txt, .md, .html, .jsonl, .csv, .pdf) "
            "or paste texts, one per line."
        )
    folder.mkdir(parents=True, exist_ok=True)
    taken = {p.name.lower() for p in folder.iterdir()}
    written = []
    for up in uploads:
        name = clean_filename(up.filename, taken)
        (folder / name).write_bytes(up.data)
        written.append(name)
    if texts:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        name = clean_filename(f"pasted-{stamp}.jsonl", taken)
        lines = [
            json.dumps({"title": f"pasted {i + 1}: {t[:60]}", "text": t}, ensure_ascii=False)
            for i, t in enumerate(texts)
        ]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(name)
    return written


def _progress(report: Report, expected_chunks: int = 0) -> Callable[[int, int, int], None]:
    """Ingest progress as job events; ``expected_chunks`` (pasted short texts only: one chunk
    each) lets the fraction move while one file's chunks are embedded."""

    def ingest_progress(files_done: int, files_total: int, chunks: int) -> None:
        fraction = files_done / files_total if files_total else None
        if expected_chunks and fraction is not None and fraction < 1:
            fraction = max(fraction, min(chunks / expected_chunks, 0.99))
        report(
            f"indexing: {files_done} of {files_total} files read, {chunks} chunks embedded",
            fraction,
            files_done=files_done,
            files_total=files_total,
            chunks_embedded=chunks,
        )

    return ingest_progress


def index_texts(
    name: str,
    uploads: list[Upload],
    texts: list[str],
    encoder: Any,
    *,
    update: bool,
    report: Report,
) -> dict[str, Any]:
    """Create index ``name`` from uploads and pasted texts (or, with ``update``, add them to
    an index made this way and re-read its folder), reporting progress between batches.

    ``report`` may raise :class:`~embedlab.errors.JobCancelledError`: a new index is then removed whole; an
    update keeps what it had committed (the files stay in its folder for the next update).

    :return: the index's stats, the run's report and the files written.
    :raises InputError: nothing to index, or uploads to an index not made from the page.
    """
    folder = owned_folder(name)
    if update:
        if name not in list_indexes():
            raise IndexNotFoundError(f"No index named {name!r} to update: create it first.")
        if (uploads or texts) and not is_owned(name):
            raise InputError(
                f"Index {name!r} was not made from the page: it reads its own files (see "
                f"'embedlab index info {name}'). Update it without uploads to re-read them, "
                "or make a new index from the page."
            )
        written = stage_uploads(folder, uploads, texts) if (uploads or texts) else []
        report("reading the index's files", 0.0, files_written=len(written))
        run = update_index(name, encoder, progress=_progress(report))
    else:
        if name in list_indexes():
            raise InputError(
                f"Index {name!r} already exists: choose another name, add to it with "
                "'update', or drop it first."
            )
        if folder.exists():  # left from an index dropped outside the page
            shutil.rmtree(folder)
        try:
            written = stage_uploads(folder, uploads, texts)
            report("reading the files", 0.0, files_written=len(written))
            expected = 0 if uploads else len([t for t in texts if t.strip()])
            progress = _progress(report, expected)
            run = create_index(name, [folder], encoder, progress=progress).report
        except BaseException:
            _remove_new(name, folder)
            raise
    stats = open_index(name).stats()
    return {
        "name": name,
        "update": update,
        "files_written": written,
        "report": {k: v for k, v in run.to_dict().items() if k != "skipped"}
        | {"skipped": [{"file": Path(s.path).name, "reason": s.reason} for s in run.skipped]},
        "stats": _stats_row(stats),
    }


def _remove_new(name: str, folder: Path) -> None:
    """Remove what a failed or cancelled create left: the partial index and its folder."""
    import contextlib

    with contextlib.suppress(IndexNotFoundError, InputError, OSError):
        drop_index(name)
    shutil.rmtree(folder, ignore_errors=True)


def drop_web_index(name: str) -> dict[str, Any]:
    """Drop index ``name`` and, if it was made from the page, the server's folder for it."""
    owned = is_owned(name)
    drop_index(name)
    if owned:
        shutil.rmtree(owned_folder(name), ignore_errors=True)
    return {"dropped": name, "files_removed": owned}


def _stats_row(stats: Any) -> dict[str, Any]:
    return {
        "name": stats.name,
        "model": stats.model,
        "dims": stats.dims,
        "files": stats.documents,
        "chunks": stats.chunks,
        "bytes_on_disk": stats.bytes_on_disk,
        "updated": stats.updated,
        "dense_search": stats.dense_search,  # how a dense query runs (IndexStats)
    }


def index_rows() -> list[dict[str, Any]]:
    """Every index, as the page's table shows it (damaged ones with their problem)."""
    rows = []
    for entry in survey_indexes():
        if entry.stats is None:
            rows.append({"name": entry.name, "problem": entry.problem, "from_page": False})
            continue
        rows.append(_stats_row(entry.stats) | {"problem": "", "from_page": is_owned(entry.name)})
    return rows
