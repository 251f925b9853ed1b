"""The index interface every store implements: the embedded default and any server engine.

An :class:`Index` is a named collection of chunks (text, source, position, title, metadata)
and one vector per chunk, all made by one model. Readers take aligned views:
``chunk_ids()``, ``texts()`` and ``vectors()`` describe the same rows in the same order.

Consistency: the three views come from one *snapshot* of the index. Reading
:attr:`Index.generation` is the synchronisation point: it refreshes the snapshot when
another process committed a change, so ``g = index.generation`` followed by the views
gives arrays that all belong to generation ``g``. Derived caches (BM25, FAISS) kept in
:attr:`Index.folder` should be keyed by that generation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import FingerprintMismatchError
from embedlab.models.base import Encoder


@dataclass(frozen=True)
class Chunk:
    """One stored chunk.

    :param id: stable id (never reused inside an index).
    :param doc_id: id of the document (source file) it came from.
    :param text: the text that was embedded.
    :param source: the source file's path.
    :param position: where it sits: ``record`` (row of a jsonl/csv file, else 0), ``chunk``
        (number within the record), ``start``/``end`` (character offsets in the record).
    :param title: the document's or record's title ("" when none).
    :param metadata: other fields (jsonl/csv columns, pdf pages...).
    """

    id: int
    doc_id: int
    text: str
    source: str
    position: dict[str, int]
    title: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {
            "id": self.id,
            "doc_id": self.doc_id,
            "text": self.text,
            "source": self.source,
            "position": dict(self.position),
            "title": self.title,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class IndexStats:
    """What ``index info`` shows. ``documents`` counts indexed *files* (shown as "files"):
    a JSONL or CSV file is one, however many records it holds."""

    name: str
    model: str
    fingerprint: str
    dims: int
    documents: int
    chunks: int
    bytes_on_disk: int
    generation: int
    chunking: dict[str, Any]
    sources: list[str]
    model_info: dict[str, Any]
    created: str = ""
    updated: str = ""
    engine: str = "embedded"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        from dataclasses import asdict

        return asdict(self)


class Index(ABC):
    """A named set of chunks and their vectors, made by one model."""

    name: str

    @property
    @abstractmethod
    def model_name(self) -> str:
        """Name of the model whose vectors the index holds."""

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """Fingerprint of that model (see :attr:`ModelInfo.fingerprint`)."""

    @property
    @abstractmethod
    def model_info(self) -> dict[str, Any]:
        """The model's full ``info.to_dict()`` as recorded at creation."""

    @property
    @abstractmethod
    def generation(self) -> int:
        """Counter bumped by every committed change; reading it refreshes the snapshot."""

    @property
    @abstractmethod
    def folder(self) -> Path:
        """A folder where derived caches of this index may be kept."""

    @property
    def dims(self) -> int:
        """Length of the stored vectors."""
        return int(self.model_info.get("dims", 0))

    @abstractmethod
    def chunk_ids(self) -> np.ndarray:
        """int64 ids of all chunks, in row order."""

    @abstractmethod
    def texts(self) -> list[str]:
        """Chunk texts, aligned with :meth:`chunk_ids`."""

    @abstractmethod
    def vectors(self) -> np.ndarray:
        """float32 ``(n, dims)`` matrix, aligned with :meth:`chunk_ids` (read-only)."""

    @abstractmethod
    def metadata(self) -> list[dict[str, Any]]:
        """Per-chunk ``{"source", "title", **metadata}``, aligned with :meth:`chunk_ids`."""

    @abstractmethod
    def get_chunks(self, ids: Sequence[int]) -> list[Chunk]:
        """The chunks with these ids, in the order given."""

    @abstractmethod
    def stats(self) -> IndexStats:
        """Counts, sizes and settings of the index."""

    def __len__(self) -> int:
        return len(self.chunk_ids())

    def check_model(self, encoder: Encoder) -> None:
        """Refuse an encoder whose vectors live in another space than the index's.

        :raises FingerprintMismatchError: naming both models and both fingerprints.
        """
        fp = encoder.info.fingerprint
        if fp != self.fingerprint:
            raise FingerprintMismatchError(
                f"Index {self.name!r} was built with model {self.model_name!r} "
                f"(fingerprint {self.fingerprint}), but the query uses {encoder.info.name!r} "
                f"(fingerprint {fp}). Vectors of two models are not comparable: query with "
                f"--model {self.model_name}, or build a new index with the other model."
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} model={self.model_name}>"
