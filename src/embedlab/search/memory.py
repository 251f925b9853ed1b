"""An index held in memory: texts and vectors from Python, searchable with the same pipeline.

Useful in notebooks and tests (``MemoryIndex.from_texts(encoder, texts)``) and as the
smallest example of the :class:`embedlab.stores.base.Index` interface.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import InputError, StoreError
from embedlab.models.base import Encoder
from embedlab.stores.base import Chunk, Index, IndexStats


class MemoryIndex(Index):
    """Chunks and vectors kept in memory; derived caches go to a temporary folder."""

    def __init__(
        self,
        name: str,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        model_info: dict[str, Any],
    ) -> None:
        if len(chunks) != len(vectors):
            raise InputError(f"{len(chunks)} chunks but {len(vectors)} vectors: give one each.")
        self.name = name
        self._chunks = list(chunks)
        self._by_id = {c.id: c for c in self._chunks}
        self._ids = np.array([c.id for c in self._chunks], dtype=np.int64)
        self._ids.flags.writeable = False  # one array for every call (the chunks are fixed)
        self._vectors = np.asarray(vectors, dtype=np.float32)
        self._info = dict(model_info)
        self._folder = Path(tempfile.mkdtemp(prefix=f"embedlab-{name}-"))

    @classmethod
    def from_texts(
        cls,
        encoder: Encoder,
        texts: Sequence[str],
        *,
        name: str = "memory",
        titles: Sequence[str] | None = None,
        metadata: Sequence[dict[str, Any]] | None = None,
    ) -> MemoryIndex:
        """Embed ``texts`` (role ``document``) with ``encoder`` and index them."""
        vectors = encoder.embed(list(texts), role="document")
        chunks = [
            Chunk(
                id=i,
                doc_id=i,
                text=t,
                source=f"{name}:{i}",
                position={"record": i, "chunk": 0, "start": 0, "end": len(t)},
                title=titles[i] if titles else "",
                metadata=dict(metadata[i]) if metadata else {},
            )
            for i, t in enumerate(texts)
        ]
        return cls(name, chunks, vectors, encoder.info.to_dict())

    @property
    def model_name(self) -> str:
        return str(self._info.get("name", ""))

    @property
    def fingerprint(self) -> str:
        return str(self._info.get("fingerprint", ""))

    @property
    def model_info(self) -> dict[str, Any]:
        return dict(self._info)

    @property
    def generation(self) -> int:
        return 1

    @property
    def folder(self) -> Path:
        return self._folder

    def chunk_ids(self) -> np.ndarray:
        return self._ids

    def texts(self) -> list[str]:
        return [c.text for c in self._chunks]

    def vectors(self) -> np.ndarray:
        return self._vectors

    def metadata(self) -> list[dict[str, Any]]:
        return [{"source": c.source, "title": c.title, **c.metadata} for c in self._chunks]

    def get_chunks(self, ids: Sequence[int]) -> list[Chunk]:
        try:
            return [self._by_id[int(i)] for i in ids]
        except KeyError as exc:
            raise StoreError(f"Index {self.name!r} has no chunk {exc.args[0]}.") from None

    def stats(self) -> IndexStats:
        return IndexStats(
            name=self.name,
            model=self.model_name,
            fingerprint=self.fingerprint,
            dims=self.dims,
            documents=len({c.doc_id for c in self._chunks}),
            chunks=len(self._chunks),
            bytes_on_disk=0,
            generation=1,
            chunking={},
            sources=sorted({c.source for c in self._chunks}),
            model_info=self.model_info,
            engine="memory",
        )
