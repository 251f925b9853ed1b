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
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import (
    BM25UnavailableError,
    EmptyInputError,
    IndexNotFoundError,
    InputError,
    StoreError,
)
from embedlab.settings import cache_dir
from embedlab.stores.base import Candidates, Chunk, FirstStage, Index, IndexStats
from embedlab.stores.filters import Filter
from embedlab.stores.milvus_client import (
    ANN_PROBE_SHARE,
    ANN_THRESHOLD,
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
    prefix_of,
    read_properties,
    sign_vector,
    to_expression,
    unit,
)

#: Milvus' top-k limit: the most rows one search returns. A first stage rescored here
#: passes at most this many rows whatever depth was asked; the depth it used is reported
#: (:attr:`Candidates.depth`).
MAX_TOPK = 16_384

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
        self._bm25_local: tuple[int, Any] | None = None
        self._warned = False
        self._said: set[str] = set()
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

    # --- queries ------------------------------------------------------------------------
    def _expr(self, filter: Filter | None) -> str:
        if filter is None:
            return ""
        known = set(self._props.get("fields", []))
        for name in sorted(filter.fields()):
            if name not in known:
                listed = ", ".join(sorted(known)) or "none"
                raise InputError(f"No chunk has a field {name!r} to filter on. Fields: {listed}.")
        return to_expression(filter)

    def count(self, filter: Filter | None = None) -> int:
        expr = self._expr(filter)
        rows = self._q(
            "count", self.client.query, self.collection, filter=expr,
            output_fields=["count(*)"], consistency_level="Strong",
        )  # fmt: skip
        return int(rows[0]["count(*)"]) if rows else 0

    def _ann(
        self,
        field: str,
        data: list[Any],
        limit: int,
        expr: str,
        metric: str,
        params: dict[str, Any],
    ) -> list[list[tuple[int, float]]]:
        res = self._q(
            "search", self.client.search, self.collection, data=data, anns_field=field,
            limit=limit, filter=expr, output_fields=["id"],
            search_params={"metric_type": metric, "params": params}, consistency_level="Strong",
        )  # fmt: skip
        return [[(int(h["id"]), float(h["distance"])) for h in hits] for hits in res]

    def _float_params(self, exact: bool) -> tuple[dict[str, Any], str]:
        kind = self.index_type
        if kind == "IVF_FLAT":
            nlist = int(self._props.get("nlist", 128))
            probe = nlist if exact else max(1, int(round(nlist * ANN_PROBE_SHARE)))
            return {"nprobe": probe}, "exact" if exact else "ann"
        if kind == "HNSW":
            return {"ef": 512 if exact else 128}, "hnsw" if exact else "ann"
        return {}, "exact"

    def search(
        self,
        query_vectors: np.ndarray,
        k: int,
        *,
        filter: Filter | None = None,
        stage: FirstStage | None = None,
    ) -> Candidates:
        """The dense first stages, run in Milvus (see :meth:`Index.search`)."""
        from embedlab.stores.dense import FIRST_STAGES
        from embedlab.stores.quantized import default_candidates

        stage = stage or FirstStage()
        q = unit(query_vectors)
        if q.shape[1] != self.dims:
            raise InputError(
                f"Query vectors have {q.shape[1]} dims; index {self.name!r} holds {self.dims}."
            )
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}.")
        if stage.quantize is not None and stage.quantize not in FIRST_STAGES:
            raise InputError(f"Unknown quantization {stage.quantize!r}: use int8 or binary.")
        dims = stage.dims if stage.dims is not None and stage.dims < self.dims else None
        if stage.dims is not None and not 1 <= stage.dims <= self.dims:
            raise InputError(f"--dims must be between 1 and {self.dims}, got {stage.dims}.")
        expr = self._expr(filter)
        limit = min(k, MAX_TOPK)
        if dims is None and stage.quantize is None:
            exact = stage.exact if stage.exact is not None else self.count(filter) < ANN_THRESHOLD
            params, method = self._float_params(bool(exact))
            hits = self._ann("vector", q.tolist(), limit, expr, "IP", params)
            return _pack(hits, method)
        # the embedded store's rule (never fewer rows than k), within Milvus' top-k limit
        asked = stage.candidates or default_candidates(k, stage.quantize, dims, self.dims)
        depth = min(max(asked, k), MAX_TOPK)
        local = self._local_reason(dims, stage.quantize)
        if local:
            if local not in self._said:
                self._said.add(local)
                warnings.warn(
                    f"Index {self.name!r} in Milvus at {self.store}: {local}; this first stage "
                    "runs in this process over the index's vectors (read once per generation).",
                    stacklevel=2,
                )
            found = Index.search(self, q, k, filter=filter, stage=stage)
            return Candidates(found.ids, found.scores, f"{found.method}(local)",
                              found.first_scores, found.first_rank, found.depth)  # fmt: skip
        if dims is not None:
            first = self._ann("prefix", prefix_of(q, dims).tolist(), depth, expr, "IP", {})
            method = f"dims{dims}+rescore"
        elif stage.quantize == "binary":
            first = self._binary(q, depth, expr)
            method = "binary+rescore"
        else:
            # int8: Milvus Lite has no INT8_VECTOR; the first stage reads the float field
            # (exact), so the rescored result equals the exact one.
            params, _ = self._float_params(True)
            first = self._ann("vector", q.tolist(), depth, expr, "IP", params)
            method = "int8(float)+rescore"
        return self._rescore(q, first, k, method)

    def _local_reason(self, dims: int | None, quantize: str | None) -> str:
        """Why a first stage cannot run in Milvus for this collection ("" when it can)."""
        if dims is not None and quantize is not None:
            return "a Matryoshka prefix and a quantized code together have no Milvus field"
        if dims is not None and dims != self.prefix_dims:
            return (
                f"its Matryoshka prefix field holds {self.prefix_dims} dims, not {dims}"
                if self.prefix_dims
                else "it has no Matryoshka prefix field (the server takes one vector field)"
            )
        if quantize == "binary" and self.bits_kind == "none":
            return "it has no binary field (the server takes one vector field)"
        return ""

    def _binary(self, q: np.ndarray, depth: int, expr: str) -> list[list[tuple[int, float]]]:
        d = self.dims
        if self.bits_kind == "binary":
            data = [bytes(np.packbits(row > 0)) for row in q]
            hits = self._ann("bits", data, depth, expr, "HAMMING", {})
            return [[(i, -dist) for i, dist in row] for row in hits]
        if self.bits_kind == "sign":
            hits = self._ann("bits", sign_vector(q).tolist(), depth, expr, "IP", {})
            # IP of +/-1 vectors = d - 2 * Hamming: report the negated Hamming distance
            return [[(i, -round((d - ip) / 2)) for i, ip in row] for row in hits]
        raise InputError(
            f"Index {self.name!r} in Milvus has no binary field: search without --quantize binary."
        )

    def _rescore(
        self, q: np.ndarray, first: list[list[tuple[int, float]]], k: int, method: str
    ) -> Candidates:
        all_ids = sorted({i for row in first for i, _ in row})
        vecs = self._fetch(all_ids, ["vector"])
        rows_ids, rows_scores, rows_first, rows_rank = [], [], [], []
        for qi, row in enumerate(first):
            ids = np.array([i for i, _ in row], dtype=np.int64)
            if len(ids) == 0:
                rows_ids.append(ids)
                rows_scores.append(np.zeros(0, np.float32))
                rows_first.append(np.zeros(0, np.float32))
                rows_rank.append(np.zeros(0, np.int64))
                continue
            fs = np.array([s for _, s in row], dtype=np.float32)
            m = unit(np.array([vecs[int(i)]["vector"] for i in ids], dtype=np.float32))
            scores = m @ q[qi]
            order = np.lexsort((np.arange(len(ids)), -scores))[:k]
            rows_ids.append(ids[order])
            rows_scores.append(scores[order].astype(np.float32))
            rows_first.append(fs[order])
            rows_rank.append(order.astype(np.int64) + 1)
        width = min((len(r) for r in rows_ids), default=0)
        depth = max((len(row) for row in first), default=0)  # the rows Milvus gave back
        return Candidates(
            np.stack([r[:width] for r in rows_ids]) if rows_ids else np.zeros((0, 0), np.int64),
            np.stack([r[:width] for r in rows_scores])
            if rows_ids
            else np.zeros((0, 0), np.float32),
            method,
            np.stack([r[:width] for r in rows_first]) if rows_ids else None,
            np.stack([r[:width] for r in rows_rank]) if rows_ids else None,
            depth or None,
        )

    def keyword(self, query: str, k: int, filter: Filter | None = None) -> Candidates:
        """BM25 through Milvus' BM25 function (or, on a server without it, in this process)."""
        from embedlab.stores.keyword import tokenize

        if not query.strip() or not tokenize(query):
            raise EmptyInputError("The query is empty (or only stop words): type some words.")
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}.")
        expr = self._expr(filter)
        if not self.full_text:
            return self._keyword_local(query, k, filter)
        hits = self._ann("sparse", [query], min(k, MAX_TOPK), expr, "BM25", {})[0]
        # Milvus Lite reports BM25 negated (as a distance); the score is its magnitude
        pairs = [(i, abs(s)) for i, s in hits if s != 0]
        ids = np.array([i for i, _ in pairs], dtype=np.int64)
        scores = np.array([s for _, s in pairs], dtype=np.float32)
        return Candidates(ids, scores, "bm25(milvus)")

    def _keyword_local(self, query: str, k: int, filter: Filter | None) -> Candidates:
        from embedlab.stores.filters import matching_rows
        from embedlab.stores.keyword import BM25Index

        if not self._warned:
            self._warned = True
            warnings.warn(no_bm25_message(self.store), stacklevel=3)
        snap = self._snapshot()
        with self._lock:
            cached = self._bm25_local
        if cached is None or cached[0] != snap.generation:
            cached = (snap.generation, BM25Index(snap.texts))
            with self._lock:
                self._bm25_local = cached
        rows = matching_rows(snap.records, filter)
        found = cached[1].search(query, k, rows=rows)
        return Candidates(snap.ids[found.ids], found.scores, "bm25(local)")

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
        """BM25 and dense fused in Milvus (``hybrid_search`` with ``RRFRanker(rrf_k)``), each
        ranking ``depth`` deep.

        :raises BM25UnavailableError: on a server without the BM25 function (keyword search
            then runs in this process and the Retriever fuses it with Milvus' dense stage).
        """
        from pymilvus import AnnSearchRequest, RRFRanker

        if not self.full_text:
            raise BM25UnavailableError(no_bm25_message(self.store))
        expr = self._expr(filter)
        q = unit(query_vector)
        params, _ = self._float_params(self.count(filter) < ANN_THRESHOLD)
        reqs = [
            AnnSearchRequest(
                q.tolist(),
                "vector",
                {"metric_type": "IP", "params": params},
                depth,
                expr=expr or None,
            ),
            AnnSearchRequest([query], "sparse", {"metric_type": "BM25"}, depth, expr=expr or None),
        ]
        res = self._q(
            "hybrid_search", self.client.hybrid_search, self.collection, reqs, RRFRanker(rrf_k),
            limit=k, output_fields=["id"], consistency_level="Strong",
        )  # fmt: skip
        hits = [(int(h["id"]), float(h["distance"])) for h in res[0]]
        return Candidates(
            np.array([i for i, _ in hits], dtype=np.int64),
            np.array([s for _, s in hits], dtype=np.float32),
            "rrf(milvus)",
        )


def no_bm25_message(store: str) -> str:
    return (
        f"Milvus at {store} has no BM25 function (full-text search needs Milvus 2.5 or "
        "later, or Milvus Lite 3.x): keyword search runs in this process over the index's "
        "texts (local BM25), fused with Milvus' dense results."
    )


def _pack(hits: list[list[tuple[int, float]]], method: str) -> Candidates:
    width = min((len(r) for r in hits), default=0)
    ids = np.array([[i for i, _ in r[:width]] for r in hits], dtype=np.int64).reshape(
        len(hits), width
    )
    scores = np.array([[s for _, s in r[:width]] for r in hits], dtype=np.float32).reshape(
        len(hits), width
    )
    return Candidates(ids, scores, method)


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
