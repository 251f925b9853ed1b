"""The queries of a Milvus index (:class:`~embedlab.stores.milvus.MilvusIndex`), run in
the server: dense search (float, Matryoshka prefix, sign bits) with the first stages
rescored here with the float vectors, as the embedded store does; BM25 through Milvus' BM25
function (or, on a server without it, over the texts in this process, said once); hybrid
search fused in Milvus (``hybrid_search`` with ``RRFRanker``). Filters become Milvus
expressions. The index keeps one :class:`MilvusQueries` and hands its queries to it, as
the embedded store hands its own to :class:`~embedlab.stores.local.LocalQueries`.
"""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from embedlab.errors import BM25UnavailableError, EmptyInputError, InputError
from embedlab.stores.base import Candidates, FirstStage, Index
from embedlab.stores.filters import Filter
from embedlab.stores.milvus_client import (
    ANN_PROBE_SHARE,
    ANN_THRESHOLD,
    prefix_of,
    sign_vector,
    to_expression,
    unit,
)

if TYPE_CHECKING:
    from embedlab.stores.milvus import MilvusIndex

#: Milvus' top-k limit: the most rows one search returns. A first stage rescored here
#: passes at most this many rows whatever depth was asked; the depth it used is reported
#: (:attr:`Candidates.depth`).
MAX_TOPK = 16_384


class MilvusQueries:
    """The queries of one :class:`~embedlab.stores.milvus.MilvusIndex` (see the module's
    note); what it learns once (a first stage that runs locally, a server without BM25,
    the local BM25 index of a generation) it keeps."""

    def __init__(self, index: MilvusIndex) -> None:
        self.index = index
        self._lock = threading.RLock()
        self._bm25_local: tuple[int, Any] | None = None
        self._warned = False
        self._said: set[str] = set()

    def _expr(self, filter: Filter | None) -> str:
        if filter is None:
            return ""
        known = set(self.index._props.get("fields", []))
        for name in sorted(filter.fields()):
            if name not in known:
                listed = ", ".join(sorted(known)) or "none"
                raise InputError(f"No chunk has a field {name!r} to filter on. Fields: {listed}.")
        return to_expression(filter)

    def count(self, filter: Filter | None = None) -> int:
        expr = self._expr(filter)
        rows = self.index._q(
            "count", self.index.client.query, self.index.collection, filter=expr,
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
        res = self.index._q(
            "search", self.index.client.search, self.index.collection, data=data, anns_field=field,
            limit=limit, filter=expr, output_fields=["id"],
            search_params={"metric_type": metric, "params": params}, consistency_level="Strong",
        )  # fmt: skip
        return [[(int(h["id"]), float(h["distance"])) for h in hits] for hits in res]

    def _float_params(self, exact: bool) -> tuple[dict[str, Any], str]:
        kind = self.index.index_type
        if kind == "IVF_FLAT":
            nlist = int(self.index._props.get("nlist", 128))
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
        if q.shape[1] != self.index.dims:
            raise InputError(
                f"Query vectors have {q.shape[1]} dims; index {self.index.name!r} holds {self.index.dims}."
            )
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}.")
        if stage.quantize is not None and stage.quantize not in FIRST_STAGES:
            raise InputError(f"Unknown quantization {stage.quantize!r}: use int8 or binary.")
        dims = stage.dims if stage.dims is not None and stage.dims < self.index.dims else None
        if stage.dims is not None and not 1 <= stage.dims <= self.index.dims:
            raise InputError(f"--dims must be between 1 and {self.index.dims}, got {stage.dims}.")
        expr = self._expr(filter)
        limit = min(k, MAX_TOPK)
        if dims is None and stage.quantize is None:
            exact = stage.exact if stage.exact is not None else self.count(filter) < ANN_THRESHOLD
            params, method = self._float_params(bool(exact))
            hits = self._ann("vector", q.tolist(), limit, expr, "IP", params)
            return _pack(hits, method)
        # the embedded store's rule (never fewer rows than k), within Milvus' top-k limit
        asked = stage.candidates or default_candidates(k, stage.quantize, dims, self.index.dims)
        depth = min(max(asked, k), MAX_TOPK)
        local = self._local_reason(dims, stage.quantize)
        if local:
            if local not in self._said:
                self._said.add(local)
                warnings.warn(
                    f"Index {self.index.name!r} in Milvus at {self.index.store}: {local}; this first stage "
                    "runs in this process over the index's vectors (read once per generation).",
                    stacklevel=2,
                )
            found = Index.search(self.index, q, k, filter=filter, stage=stage)
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
        if dims is not None and dims != self.index.prefix_dims:
            return (
                f"its Matryoshka prefix field holds {self.index.prefix_dims} dims, not {dims}"
                if self.index.prefix_dims
                else "it has no Matryoshka prefix field (the server takes one vector field)"
            )
        if quantize == "binary" and self.index.bits_kind == "none":
            return "it has no binary field (the server takes one vector field)"
        return ""

    def _binary(self, q: np.ndarray, depth: int, expr: str) -> list[list[tuple[int, float]]]:
        d = self.index.dims
        if self.index.bits_kind == "binary":
            data = [bytes(np.packbits(row > 0)) for row in q]
            hits = self._ann("bits", data, depth, expr, "HAMMING", {})
            return [[(i, -dist) for i, dist in row] for row in hits]
        if self.index.bits_kind == "sign":
            hits = self._ann("bits", sign_vector(q).tolist(), depth, expr, "IP", {})
            # IP of +/-1 vectors = d - 2 * Hamming: report the negated Hamming distance
            return [[(i, -round((d - ip) / 2)) for i, ip in row] for row in hits]
        raise InputError(
            f"Index {self.index.name!r} in Milvus has no binary field: search without --quantize binary."
        )

    def _rescore(
        self, q: np.ndarray, first: list[list[tuple[int, float]]], k: int, method: str
    ) -> Candidates:
        all_ids = sorted({i for row in first for i, _ in row})
        vecs = self.index._fetch(all_ids, ["vector"])
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
        if not self.index.full_text:
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
            warnings.warn(no_bm25_message(self.index.store), stacklevel=3)
        snap = self.index._snapshot()
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

        if not self.index.full_text:
            raise BM25UnavailableError(no_bm25_message(self.index.store))
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
        res = self.index._q(
            "hybrid_search", self.index.client.hybrid_search, self.index.collection, reqs, RRFRanker(rrf_k),
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


__all__ = ["MAX_TOPK", "MilvusQueries", "no_bm25_message"]
