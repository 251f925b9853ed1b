"""What a write run is given and what it gives back, shared by the embedded writer
(:mod:`embedlab.stores.writer`) and the Milvus writer (:mod:`embedlab.stores.milvus_writer`):
the files to (re)index (:class:`FileJob`) with the digest that tells a changed file, the
content hash that decides whether a chunk is embedded again, progress callbacks, and the
:class:`WriteReport` of a create/update.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.stores.ingest import Skipped

#: progress(files_done, files_total, chunks_done)
Progress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class FileJob:
    """A file to (re)index: its path, its existing document row (if any) and its hash."""

    path: Path
    doc_id: int | None
    digest: str
    mtime_ns: int
    size: int


@dataclass
class WriteReport:
    """What one create/update did."""

    files_indexed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    chunks_removed: int = 0
    #: files taken up where an interrupted run's last checkpoint left them.
    files_resumed: int = 0
    #: commits made inside big files.
    checkpoints: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    #: what the step after the commit did to the ANN file (``built``, ``updated``,
    #: ``retrained``; ``delta``: small change, served from the file plus a delta;
    #: ``current``), ``None`` when the index has no ANN (fewer chunks than the threshold).
    ann: str | None = None
    #: its time (part of ``seconds``).
    ann_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def file_digest(path: Path) -> str:
    """sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def text_hash(text: str) -> str:
    """The content hash of a chunk (what decides whether it is embedded again)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


__all__ = ["FileJob", "Progress", "WriteReport", "file_digest", "text_hash"]
