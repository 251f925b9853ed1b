"""Indexes held by a Milvus server (``--store milvus://HOST:PORT``).

One collection per index, named after it (characters Milvus refuses become ``_``; the
index's own name is kept in the collection's properties). A row is one chunk:

============  =====================  =================================================
field         type                   what
============  =====================  =================================================
id            INT64 (primary key)    the chunk id (stable: a hash of the file, record,
                                     chunk number and text, so a redone upsert lands on
                                     the same row)
text          VARCHAR + analyzer     the chunk text; the BM25 function reads it
sparse        SPARSE_FLOAT_VECTOR    BM25 output (Milvus' full-text search), when the
                                     server has the function
source/title  VARCHAR                file path, title
position      JSON                   record, chunk, start, end
metadata      JSON                   the record's other fields, as read
fields        JSON                   ``{"source", "title", **metadata}`` as text: what
                                     filters read (they compare text, as the embedded
                                     store does)
doc_*         VARCHAR/INT64          the file's sha256, mtime, size and chunk count (how
                                     ``index update`` tells a complete file)
vector        FLOAT_VECTOR (d)       unit vector; IVF_FLAT (default), FLAT or HNSW, IP
prefix        FLOAT_VECTOR (p)       the first p components renormalised (Matryoshka
                                     first stage), FLAT, IP
bits          BINARY_VECTOR (d)      sign bits, Hamming (BIN_FLAT); on a server without
                                     binary vectors (Milvus Lite) the same bits as a
                                     +/-1 float vector with IP, whose score is
                                     ``d - 2 * Hamming``: the same ranking, exactly
============  =====================  =================================================

The collection's properties (``embedlab.*``) carry the model's name, info and
fingerprint, the chunking, the sources, the generation and the commit marker, so every
client that opens the collection gets the same fingerprint check.

Queries run in Milvus; embedlab rescores the Matryoshka and quantized first stages with
the float vectors, as the embedded store does. BM25 runs in Milvus' BM25 function (k1 1.5,
b 0.75); without the function (Milvus before 2.5) keyword search runs over the texts in
this process (:class:`~embedlab.stores.keyword.BM25Index`) and says so once.
The queries themselves live in :mod:`embedlab.stores.milvus_queries`; this module holds
the index: its properties, chunks, vectors and statistics.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import (
    IndexNotFoundError,
    InputError,
    StoreError,
)
from embedlab.settings import cache_dir
from embedlab.stores.base import Candidates, Chunk, FirstStage, Index, IndexStats
from embedlab.stores.filters import Filter
from embedlab.stores.milvus_client import (
    INDEX_TYPES,
    PAGE,
    SCHEME,
    call,
    chunk_id,
    collection_name,
    connect,
    doc_id,
    filter_record,
    is_milvus,
    open_props,
    parse_uri,
    read_properties,
    to_expression,
)
from embedlab.stores.milvus_queries import MAX_TOPK, MilvusQueries, no_bm25_message

# --- the index -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    generation: int
    ids: np.ndarray
    texts: list[str]
    records: list[dict[str, Any]]
    vectors: np.ndarray | None


class MilvusIndex(Index):
    """An index held in a Milvus collection (see the module docstring).

    :param name: the index name.
    :param store: ``milvus://HOST:PORT``.
    """

    def __init__(self, name: str, store: str) -> None:
        self.store, _ = parse_uri(store)
        self.name = name
        self.client, self.collection, self._props = open_props(self.store, name)
        self._lock = threading.RLock()
        self._snap: _Snapshot | None = None
        self.queries = MilvusQueries(self)
        #: the :class:`~embedlab.stores.writer.WriteReport` of the run that returned it.
        self.report: Any = None

    # --- metadata ---------------------------------------------------------------------
    def _refresh(self) -> dict[str, Any]:
        props = read_properties(self.client, self.store, self.collection)
        with self._lock:
            self._props = props
        return props

    @property
    def model_name(self) -> str:
        return str(self._props["model"])

    @property
    def fingerprint(self) -> str:
        return str(self._props["fingerprint"])

    @property
    def model_info(self) -> dict[str, Any]:
        return dict(self._props.get("model_info", {}))

    @property
    def generation(self) -> int:
        return int(self._refresh().get("generation", 0))

    @property
    def folder(self) -> Path:
        host = self.store[len(SCHEME) :].replace(":", "_")
        return cache_dir("milvus", host, self.collection)

    @property
    def prefix_dims(self) -> int:
        """Width of the Matryoshka prefix field (0: none)."""
        return int(self._props.get("prefix_dims", 0))

    @property
    def bits_kind(self) -> str:
        """``binary`` (BINARY_VECTOR, Hamming), ``sign`` (+/-1 floats, IP) or ``none``."""
        return str(self._props.get("bits", "none"))

    @property
    def full_text(self) -> bool:
        """Whether the collection has Milvus' BM25 function field."""
        return self._props.get("bm25") == "milvus"

    @property
    def index_type(self) -> str:
        return str(self._props.get("index_type", "FLAT"))

    def close(self) -> None:
        """Nothing to release (the client is shared per URI)."""

    def _q(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return call(self.store, what, fn, *args, **kwargs)

    # --- whole-index readers (snapshot per generation) ----------------------------------
    def _iterate(
        self, fields: list[str], expr: str = "", batch: int = PAGE
    ) -> Iterator[list[dict[str, Any]]]:
        it = self._q(
            "query_iterator", self.client.query_iterator, self.collection,
            batch_size=batch, filter=expr, output_fields=fields,
        )  # fmt: skip
        try:
            while True:
                page = self._q("query_iterator.next", it.next)
                if not page:
                    break
                yield [dict(r) for r in page]
        finally:
            it.close()

    def _snapshot(self, vectors: bool = False) -> _Snapshot:
        gen = self.generation
        with self._lock:
            snap = self._snap
        if (
            snap is not None
            and snap.generation == gen
            and (snap.vectors is not None or not vectors)
        ):
            return snap
        fields = ["id", "text", "source", "title", "metadata"] + (["vector"] if vectors else [])
        rows = [r for page in self._iterate(fields) for r in page]
        rows.sort(key=lambda r: int(r["id"]))
        ids = np.array([int(r["id"]) for r in rows], dtype=np.int64)
        texts = [str(r["text"]) for r in rows]
        records = [
            {"source": r["source"], "title": r["title"], **(r["metadata"] or {})} for r in rows
        ]
        matrix = None
        if vectors:
            matrix = np.array([r["vector"] for r in rows], dtype=np.float32).reshape(
                len(rows), self.dims
            )
            matrix.setflags(write=False)
        snap = _Snapshot(gen, ids, texts, records, matrix)
        with self._lock:
            self._snap = snap
        return snap

    def chunk_ids(self) -> np.ndarray:
        return self._snapshot().ids

    def texts(self) -> list[str]:
        return self._snapshot().texts

    def vectors(self) -> np.ndarray:
        snap = self._snapshot(vectors=True)
        assert snap.vectors is not None
        return snap.vectors

    def metadata(self) -> list[dict[str, Any]]:
        return self._snapshot().records

    def __len__(self) -> int:
        return self.count()

    def _fetch(self, ids: Sequence[int], fields: list[str]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        ids = [int(i) for i in ids]
        for start in range(0, len(ids), PAGE):
            part = ids[start : start + PAGE]
            rows = self._q(
                "query", self.client.query, self.collection,
                filter=f"id in [{', '.join(map(str, part))}]", output_fields=["id", *fields],
                consistency_level="Strong",
            )  # fmt: skip
            out.update({int(r["id"]): dict(r) for r in rows})
        return out

    def get_chunks(self, ids: Sequence[int]) -> list[Chunk]:
        fields = ["text", "source", "title", "position", "metadata"]
        rows = self._fetch(ids, fields)
        out = []
        for i in ids:
            r = rows.get(int(i))
            if r is None:
                raise IndexNotFoundError(f"Index {self.name!r} has no chunk {int(i)}.")
            out.append(
                Chunk(
                    id=int(i),
                    doc_id=doc_id(str(r["source"])),
                    text=str(r["text"]),
                    source=str(r["source"]),
                    position=dict(r["position"] or {}),
                    title=str(r["title"]),
                    metadata=dict(r["metadata"] or {}),
                )  # fmt: skip
            )
        return out

    def vectors_of(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of the chunks ``ids`` in the order given, fetched by primary
        key (only those rows travel, not the whole collection).

        :raises InputError: when an id is not in the index.
        """
        want = [int(i) for i in np.asarray(ids, dtype=np.int64).reshape(-1)]
        rows = self._fetch(list(dict.fromkeys(want)), ["vector"])
        missing = [i for i in want if i not in rows]
        if missing:
            raise InputError(
                f"Index {self.name!r} has no chunk with id {missing[0]}: ids come from "
                "its search results or chunk_ids()."
            )
        if not want:
            return np.zeros((0, self.dims), dtype=np.float32)
        return np.array([rows[i]["vector"] for i in want], dtype=np.float32).reshape(
            len(want), self.dims
        )

    def iter_vectors(self, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if batch < 1:
            raise InputError(f"batch must be at least 1, got {batch}.")
        for page in self._iterate(["id", "vector"], batch=min(batch, 16_384)):
            ids = np.array([int(r["id"]) for r in page], dtype=np.int64)
            yield (
                ids,
                np.array([r["vector"] for r in page], dtype=np.float32).reshape(
                    len(page), self.dims
                ),
            )

    def iter_chunks(self, batch: int = 1000) -> Iterator[list[Chunk]]:
        if batch < 1:
            raise InputError(f"batch must be at least 1, got {batch}.")
        for page in self._iterate(["id"], batch=min(batch, 16_384)):
            yield self.get_chunks([int(r["id"]) for r in page])

    def stats(self) -> IndexStats:
        props = self._refresh()
        n = self.count()
        documents = props.get("documents")
        if documents is None:  # not recorded: count the files
            documents = len({str(r["source"]) for page in self._iterate(["source"]) for r in page})
        try:
            st = self._q("get_collection_stats", self.client.get_collection_stats, self.collection)
            rows = int(st.get("row_count", n))
        except StoreError:
            rows = n
        per_row = 4 * (self.dims + self.prefix_dims) + (
            self.dims // 8
            if self.bits_kind == "binary"
            else 4 * self.dims
            if self.bits_kind == "sign"
            else 0
        )
        return IndexStats(
            name=self.name,
            model=str(props["model"]),
            fingerprint=str(props["fingerprint"]),
            dims=self.dims,
            documents=int(documents),
            chunks=n,
            bytes_on_disk=rows * per_row,  # the vectors' share; Milvus keeps the rest
            generation=int(props.get("generation", 0)),
            chunking=dict(props.get("chunking", {})),
            sources=list(props.get("sources", [])),
            model_info=dict(props.get("model_info", {})),
            created=str(props.get("created", "")),
            updated=str(props.get("updated", "")),
            engine=f"milvus ({self.store})",
        )

    # --- queries (run in Milvus: stores/milvus_queries.py) -------------------------------
    def count(self, filter: Filter | None = None) -> int:
        """Chunks passing ``filter`` (all without one)."""
        return self.queries.count(filter)

    def search(
        self,
        query_vectors: np.ndarray,
        k: int,
        *,
        filter: Filter | None = None,
        stage: FirstStage | None = None,
    ) -> Candidates:
        """The dense first stages, run in Milvus (see :meth:`Index.search`)."""
        return self.queries.search(query_vectors, k, filter=filter, stage=stage)

    def keyword(self, query: str, k: int, filter: Filter | None = None) -> Candidates:
        """BM25 through Milvus' BM25 function (or, on a server without it, in this process)."""
        return self.queries.keyword(query, k, filter)

    def hybrid(
        self,
        query: str,
        query_vector: np.ndarray,
        k: int,
        *,
        depth: int = 100,
        filter: Filter | None = None,
        rrf_k: int = 60,
    ) -> Candidates:
        """BM25 and dense fused in Milvus (see :meth:`MilvusQueries.hybrid`)."""
        return self.queries.hybrid(query, query_vector, k, depth=depth, filter=filter, rrf_k=rrf_k)


__all__ = [
    "INDEX_TYPES",
    "MAX_TOPK",
    "MilvusIndex",
    "SCHEME",
    "chunk_id",
    "collection_name",
    "connect",
    "filter_record",
    "is_milvus",
    "no_bm25_message",
    "open_props",
    "parse_uri",
    "to_expression",
]
