"""The index interface every store implements: the embedded default and any server engine.

An :class:`Index` is a named collection of chunks (text, source, position, title, metadata)
and one vector per chunk, all made by one model. Readers take aligned views:
``chunk_ids()``, ``texts()`` and ``vectors()`` describe the same rows in the same order.

Consistency: the three views come from one *snapshot* of the index. Reading
:attr:`Index.generation` is the synchronisation point: it refreshes the snapshot when
another process committed a change, so ``g = index.generation`` followed by the views
gives arrays that all belong to generation ``g``. Derived caches (BM25, FAISS) kept in
:attr:`Index.folder` should be keyed by that generation.

Queries run where the data lives: :meth:`Index.search` answers the dense first stages
(exact, ANN, Matryoshka prefix, int8, binary) and :meth:`Index.keyword` BM25, each with an
optional :mod:`~embedlab.stores.filters` expression, returning chunk ids and scores
(:class:`Candidates`); :meth:`Index.iter_vectors` and :meth:`Index.iter_chunks` page through
the rows. :class:`QueryIndex` lists what an engine must implement. The defaults here scan
in this process (the embedded way, through :mod:`embedlab.stores.local`); a server engine
overrides them to run the query in the server.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from embedlab.errors import FingerprintMismatchError, InputError
from embedlab.models.base import Encoder

if TYPE_CHECKING:
    from embedlab.stores.chunking import ChunkSettings
    from embedlab.stores.filters import Filter


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
    #: how a dense query runs: ``{"method": "exact"}`` below the ANN threshold, else
    #: ``{"method": "ivf", "ann": ...}`` with the ANN file's state
    #: (:func:`embedlab.stores.ann.describe`); empty where the engine does not say.
    dense_search: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        from dataclasses import asdict

        return asdict(self)


@dataclass(frozen=True)
class FirstStage:
    """Which dense first stage :meth:`Index.search` runs (all ``None``: exact below the ANN
    threshold, ANN from it on).

    :param dims: Matryoshka first stage on the first ``dims`` components.
    :param quantize: ``"int8"`` or ``"binary"`` first stage.
    :param candidates: first-stage rows rescored with the float vectors (``None``: the
        default for the stage, see :func:`embedlab.stores.quantized.default_candidates`).
    :param exact: force exact (``True``) or ANN (``False``) search.
    """

    dims: int | None = None
    quantize: str | None = None
    candidates: int | None = None
    exact: bool | None = None


@dataclass(frozen=True)
class Candidates:
    """What a first stage returns: chunk ids and scores, best first.

    For :meth:`Index.search` ``ids`` and ``scores`` are ``(n_queries, k')`` (``k'`` = k, or
    fewer when fewer rows pass the filter); for :meth:`Index.keyword` they are ``(k',)``
    (rows scoring 0 are left out). When a Matryoshka or quantized first stage was rescored,
    ``first_scores`` holds each hit's first-stage score and ``first_rank`` its 1-based rank
    there; else both are ``None``. ``method`` names what ran (``exact``, ``ann``,
    ``dims128+int8+rescore``, ``bm25``...). ``depth`` is the rescoring depth the store
    used: how many first-stage rows it rescored with the float vectors for a query (the
    most any query had), after its own limits (the rows passing the filter, an engine's
    top-k cap); ``None`` when nothing was rescored.
    """

    ids: np.ndarray
    scores: np.ndarray
    method: str = ""
    first_scores: np.ndarray | None = None
    first_rank: np.ndarray | None = None
    depth: int | None = None


@runtime_checkable
class QueryIndex(Protocol):
    """What a query engine implements so the one retrieval path
    (:class:`embedlab.search.retrieve.Retriever`) runs its first stages where the data lives.

    Ids are the index's chunk ids (any int64 ids for an in-memory source); scores are
    cosine for dense stages (first-stage scores in :attr:`Candidates.first_scores`) and
    Okapi BM25 for :meth:`keyword`. A filter holds for a row when
    ``filter.matches(record)`` would on its ``{"source", "title", **metadata}``; an engine
    translates the expression tree into its own language, and refuses a field no row has
    (:class:`~embedlab.errors.InputError`).
    """

    def search(
        self,
        query_vectors: np.ndarray,
        k: int,
        *,
        filter: Filter | None = None,
        stage: FirstStage | None = None,
    ) -> Candidates:
        """The ``k`` nearest rows (by cosine) to each query vector that pass ``filter``."""
        ...

    def keyword(self, query: str, k: int, filter: Filter | None = None) -> Candidates:
        """The ``k`` best rows by BM25 for ``query`` that pass ``filter``."""
        ...

    def count(self, filter: Filter | None = None) -> int:
        """How many rows pass ``filter`` (all rows without one)."""
        ...


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

    # --- queries (see QueryIndex); these defaults scan in this process ------------------

    def search(
        self,
        query_vectors: np.ndarray,
        k: int,
        *,
        filter: Filter | None = None,
        stage: FirstStage | None = None,
    ) -> Candidates:
        """The ``k`` nearest chunks to each query vector ``(d,)`` or ``(m, d)`` that pass
        ``filter``, by the first stage ``stage`` (see :class:`FirstStage`).

        The default scans the vectors of the current generation in this process, with
        derived structures (ANN, bfloat16/int8/binary codes, the filter's rows) built once
        per generation (and filter) and kept; an engine overrides it.
        """
        return self._local().search(query_vectors, k, filter=filter, stage=stage)

    def keyword(self, query: str, k: int, filter: Filter | None = None) -> Candidates:
        """The ``k`` best chunks by BM25 (Okapi) for ``query`` that pass ``filter``.

        :raises EmptyInputError: for an empty query.
        """
        return self._local().keyword(query, k, filter)

    def count(self, filter: Filter | None = None) -> int:
        """How many chunks pass ``filter`` (all without one).

        :raises InputError: when the filter reads a field no chunk has.
        """
        return self._local().count(filter)

    def _local(self) -> Any:
        # The in-process kernels (stores/dense.py, stores/keyword.py) load FAISS, numba and
        # bm25s: imported when first queried, so opening an index stays cheap.
        from embedlab.stores.local import local_queries

        return local_queries(self)

    def iter_vectors(self, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(chunk ids, float32 vectors)`` pages of at most ``batch`` rows, in row order,
        all from the generation current at the first page; every row once."""
        _check_batch(batch)
        self.generation  # noqa: B018 - refreshes the snapshot the views below come from
        ids, vectors = self.chunk_ids(), self.vectors()
        for start in range(0, len(ids), batch):
            stop = start + batch
            yield ids[start:stop], np.array(vectors[start:stop], dtype=np.float32)

    def iter_chunks(self, batch: int = 1000) -> Iterator[list[Chunk]]:
        """Pages of at most ``batch`` :class:`Chunk` objects, in row order, from the
        generation current at the first page; every chunk once."""
        _check_batch(batch)
        self.generation  # noqa: B018 - refreshes the snapshot
        ids = self.chunk_ids()
        for start in range(0, len(ids), batch):
            yield self.get_chunks([int(i) for i in ids[start : start + batch]])

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

    def vectors_of(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of the chunks ``ids``, float32 ``(len(ids), dims)`` in the order
        given (a residual reranker reads its candidates' vectors here instead of embedding
        them again); an engine may override it to fetch only those rows.

        :raises InputError: when an id is not in the index.
        """
        all_ids, want = self.chunk_ids(), np.asarray(ids, dtype=np.int64).reshape(-1)
        if not len(all_ids):
            rows = np.zeros(0, dtype=np.int64)
        else:  # chunk ids are in row order, ascending; any order is looked up all the same
            order = None if np.all(all_ids[1:] > all_ids[:-1]) else np.argsort(all_ids)
            pos = np.minimum(np.searchsorted(all_ids, want, sorter=order), len(all_ids) - 1)
            rows = pos if order is None else order[pos]
        missing = want if not len(all_ids) else want[all_ids[rows] != want]
        if len(missing):
            raise InputError(
                f"Index {self.name!r} has no chunk with id {int(missing[0])}: ids come from "
                "its search results or chunk_ids()."
            )
        return np.array(self.vectors()[rows], dtype=np.float32)


def _check_batch(batch: int) -> None:
    if batch < 1:
        raise InputError(f"batch must be at least 1, got {batch}.")


def build_description(
    name: str,
    encoder: Encoder,
    settings: ChunkSettings,
    sources: Sequence[str | Path],
    text_field: str | None,
    title_field: str | None,
) -> dict[str, Any]:
    """What every engine records of a new index (its SQLite meta table, a Milvus
    collection's properties): the name, the model and its fingerprint, the chunking, how
    records were read, the sources (absolute) and the creation time (as ``updated`` too)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "name": name,
        "model": encoder.info.name,
        "model_info": encoder.info.to_dict(),
        "fingerprint": encoder.info.fingerprint,
        "chunking": settings.to_dict(),
        "read_options": {"text_field": text_field, "title_field": title_field},
        "sources": [str(Path(s).expanduser().resolve()) for s in sources],
        "created": now,
        "updated": now,
    }
