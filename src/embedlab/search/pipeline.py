"""The search pipeline: query -> dense and/or BM25 -> fusion -> rerank, traced stage by stage.

>>> result = search("notes", "how do vaccines work", encoder=load_model("minilm"),
...                 mode="hybrid", rerank="path/to/cross-encoder")
>>> for hit in result.hits:
...     print(hit.rank, hit.chunk.title, hit.stages["bm25"].rank, hit.stages["dense"].rank)

Every hit carries a :class:`StageTrace` (rank and score, ``None`` where the stage did not
return it) for each stage that ran: ``bm25``, ``dense`` (with ``dense_first`` for the
Matryoshka/quantized first stage), ``fused`` and ``reranked``. ``SearchResult.timings``
holds the seconds each stage took.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedlab.errors import EmptyInputError, InputError
from embedlab.models.base import Encoder
from embedlab.search.cache import cached_bm25, cached_dense
from embedlab.search.dense import QUANTIZATIONS, DenseIndex
from embedlab.search.fusion import RRF_K, rrf
from embedlab.search.rerank import RERANK_CANDIDATES
from embedlab.search.rerank import rerank as rerank_passages
from embedlab.stores.base import Chunk, Index

#: mode -> the retrievers it runs.
MODES: dict[str, tuple[str, ...]] = {
    "dense": ("dense",),
    "bm25": ("bm25",),
    "hybrid": ("bm25", "dense"),
}
#: every stage a hit can be traced through, in pipeline order.
STAGES: tuple[str, ...] = ("bm25", "dense_first", "dense", "fused", "reranked")
#: how many candidates each retriever returns in hybrid mode (before fusion cuts to k).
HYBRID_DEPTH = 100


@dataclass(frozen=True)
class StageTrace:
    """Where one result stood after one stage: 1-based rank and score, or ``None``."""

    rank: int | None
    score: float | None


@dataclass
class Hit:
    """One result: its chunk, final rank and score, and its trace through the stages."""

    chunk: Chunk
    rank: int
    score: float
    stages: dict[str, StageTrace] = field(default_factory=dict)

    def moved(self, start: str, end: str) -> int | None:
        """Places gained from stage ``start`` to stage ``end`` (positive = moved up)."""
        a, b = self.stages.get(start), self.stages.get(end)
        if a is None or b is None or a.rank is None or b.rank is None:
            return None
        return a.rank - b.rank

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": self.score,
            "chunk": self.chunk.to_dict(),
            "stages": {k: {"rank": v.rank, "score": v.score} for k, v in self.stages.items()},
        }


@dataclass
class SearchResult:
    """What :func:`search` returns: hits best first, the stages run and their timings."""

    query: str
    index: str
    mode: str
    k: int
    hits: list[Hit]
    stage_names: list[str]
    timings: dict[str, float]
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "index": self.index,
            "mode": self.mode,
            "k": self.k,
            "stages": self.stage_names,
            "timings": self.timings,
            "settings": self.settings,
            "hits": [h.to_dict() for h in self.hits],
        }


def parse_filters(filters: Sequence[str] | dict[str, str] | None) -> dict[str, str]:
    """``["field=value", ...]`` (or a dict) -> ``{field: value}``.

    :raises InputError: for an item without ``=`` or with an empty field name.
    """
    if filters is None:
        return {}
    if isinstance(filters, dict):
        return {str(k): str(v) for k, v in filters.items()}
    out: dict[str, str] = {}
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(
                f"Malformed filter {item!r}: write field=value, e.g. --filter source=notes.md."
            )
        out[name.strip()] = value.strip()
    return out


def filter_rows(metadata: list[dict[str, Any]], filters: dict[str, str]) -> np.ndarray | None:
    """Row positions whose metadata matches every filter (values compared as text).

    :raises InputError: when a field appears in no chunk's metadata (lists those that do).
    """
    if not filters:
        return None
    fields = set().union(*(m.keys() for m in metadata)) if metadata else set()
    for name in filters:
        if name not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise InputError(f"No chunk has a field {name!r} to filter on. Fields: {known}.")
    keep = [
        i
        for i, m in enumerate(metadata)
        if all(name in m and str(m[name]) == value for name, value in filters.items())
    ]
    return np.asarray(keep, dtype=np.int64)


def check_options(
    query: str,
    *,
    k: int = 10,
    mode: str = "dense",
    dims: int | None = None,
    quantize: str | None = None,
    rerank_candidates: int = RERANK_CANDIDATES,
    filters: Sequence[str] | dict[str, str] | None = None,
) -> dict[str, str]:
    """Check a search's settings before anything is opened or loaded; returns the filters.

    :raises InputError: an empty query, an unknown mode or quantization, k, dims or rerank
        candidates below 1, --dims/--quantize with keyword-only search, a malformed filter.
    """
    if not isinstance(query, str) or not query.strip():
        raise EmptyInputError("The query is empty: type what you are looking for.")
    if mode not in MODES:
        raise InputError(f"Unknown mode {mode!r}: use one of {', '.join(MODES)}.")
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}.")
    if dims is not None and dims < 1:
        raise InputError(f"--dims must be at least 1, got {dims}.")
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise InputError(
            f"Unknown quantization {quantize!r}: use one of {', '.join(QUANTIZATIONS)}."
        )
    if rerank_candidates < 1:
        raise InputError(f"--rerank-candidates must be at least 1, got {rerank_candidates}.")
    if "dense" not in MODES[mode] and (dims is not None or quantize is not None):
        raise InputError("--dims and --quantize apply to dense search: use --mode dense or hybrid.")
    return parse_filters(filters)


def _open(index: Index | str) -> Index:
    if isinstance(index, str):
        from embedlab.stores import open_index

        return open_index(index)
    return index


def search(
    index: Index | str,
    query: str,
    *,
    encoder: Encoder | None = None,
    k: int = 10,
    mode: str = "dense",
    rerank: Any = None,
    rerank_candidates: int = RERANK_CANDIDATES,
    dims: int | None = None,
    quantize: str | None = None,
    filters: Sequence[str] | dict[str, str] | None = None,
    rrf_k: int = RRF_K,
    weights: Sequence[float] | None = None,
    query_vector: np.ndarray | None = None,
) -> SearchResult:
    """Search ``index`` for ``query``; see the module docstring.

    :param index: an :class:`Index` or the name of a stored index.
    :param encoder: the model for the query (default: the index's model); checked against
        the index's fingerprint.
    :param mode: ``dense``, ``bm25`` or ``hybrid`` (reciprocal rank fusion of both).
    :param rerank: a reranker name/folder, Reranker or CrossEncoder; rescores the top
        ``rerank_candidates``.
    :param dims: Matryoshka first stage on the first ``dims`` dimensions.
    :param quantize: ``int8`` or ``binary`` first stage (float rescoring).
    :param filters: ``field=value`` items; a chunk must match all.
    :param weights: RRF weights for (bm25, dense) in hybrid mode.
    :param query_vector: the query already embedded with ``encoder`` (role ``query``), for
        callers that embed many queries in one batch.
    """
    started = time.perf_counter()
    wanted = check_options(
        query, k=k, mode=mode, dims=dims, quantize=quantize,
        rerank_candidates=rerank_candidates, filters=filters,
    )  # fmt: skip
    idx = _open(index)
    timings: dict[str, float] = {}
    generation = idx.generation
    ids = idx.chunk_ids()
    rows = filter_rows(idx.metadata(), wanted)
    depth = max(k, rerank_candidates if rerank is not None else 0)
    if mode == "hybrid":
        depth = max(depth, HYBRID_DEPTH)
    rankings: dict[str, tuple[list[int], list[float]]] = {}
    traces: dict[str, dict[int, StageTrace]] = {}

    if "dense" in MODES[mode]:
        rankings["dense"] = _dense_ranking(
            idx, query, encoder, query_vector, generation, rows, depth, dims, quantize,
            timings, traces,
        )  # fmt: skip

    if "bm25" in MODES[mode]:
        t = time.perf_counter()
        bm25 = cached_bm25(idx, generation)
        found = bm25.search(query, depth, rows=rows)
        timings["bm25"] = time.perf_counter() - t
        rankings["bm25"] = ([int(ids[p]) for p in found.ids], found.scores.tolist())

    for name, (doc_ids, scores) in rankings.items():
        traces[name] = _traces(doc_ids, scores)

    order: list[int]
    final: list[float]
    if mode == "hybrid":
        t = time.perf_counter()
        fused = rrf([rankings["bm25"][0], rankings["dense"][0]], k=rrf_k, weights=weights)
        timings["fuse"] = time.perf_counter() - t
        order, final = [d for d, _ in fused], [s for _, s in fused]
        traces["fused"] = _traces(order, final)
    else:
        order, final = rankings[MODES[mode][0]]

    chunks: dict[int, Chunk] = {}
    if rerank is not None and order:
        t = time.perf_counter()
        order, final = _rerank(idx, query, rerank, order[:rerank_candidates], chunks)
        traces["reranked"] = _traces(order, final)
        timings["rerank"] = time.perf_counter() - t

    order, final = order[:k], final[:k]
    t = time.perf_counter()
    missing = [i for i in order if i not in chunks]
    chunks.update({c.id: c for c in idx.get_chunks(missing)})
    timings["fetch"] = time.perf_counter() - t
    stage_names: list[str] = [s for s in STAGES if s in traces]
    out = [
        Hit(
            chunk=chunks[doc],
            rank=r,
            score=float(score),
            stages={s: traces[s].get(doc, StageTrace(None, None)) for s in stage_names},
        )
        for r, (doc, score) in enumerate(zip(order, final, strict=True), start=1)
    ]
    timings["total"] = time.perf_counter() - started
    settings = {
        "dims": dims,
        "quantize": quantize,
        "filters": wanted,
        "rerank": None if rerank is None else str(getattr(rerank, "name", rerank)),
        "rerank_candidates": rerank_candidates if rerank is not None else None,
        "rrf_k": rrf_k if mode == "hybrid" else None,
        "generation": generation,
        "candidates": len(rows) if rows is not None else len(ids),
    }
    return SearchResult(query, idx.name, mode, k, out, stage_names, timings, settings)


def _dense_ranking(
    idx: Index,
    query: str,
    encoder: Encoder | None,
    query_vector: np.ndarray | None,
    generation: int,
    rows: np.ndarray | None,
    depth: int,
    dims: int | None,
    quantize: str | None,
    timings: dict[str, float],
    traces: dict[str, dict[int, StageTrace]],
) -> tuple[list[int], list[float]]:
    """Embed the query (fingerprint checked) and run the dense stage; chunk ids and scores."""
    if encoder is None:
        from embedlab.models import load_model

        encoder = load_model(idx.model_name)
    idx.check_model(encoder)
    t = time.perf_counter()
    qv = encoder.embed(query, role="query")[0] if query_vector is None else query_vector
    timings["embed"] = time.perf_counter() - t
    t = time.perf_counter()
    dense = cached_dense(idx, generation)
    if rows is not None:
        dense = DenseIndex(dense.vectors[rows], ann_threshold=len(rows) + 1)
    if dense.n == 0:
        return [], []
    hits = dense.search(qv, min(depth, dense.n), dims=dims, quantize=quantize)
    timings["dense"] = time.perf_counter() - t
    ids = idx.chunk_ids()
    pos = hits.ids[0] if rows is None else rows[hits.ids[0]]
    doc_ids = [int(ids[p]) for p in pos]
    if hits.first_stage is not None:
        traces["dense_first"] = _first_stage_traces(doc_ids, hits)
    return doc_ids, hits.scores[0].tolist()


def _rerank(
    idx: Index, query: str, reranker: Any, top: list[int], chunks: dict[int, Chunk]
) -> tuple[list[int], list[float]]:
    """Rescore the chunks ``top`` with the reranker; fills ``chunks`` with them."""
    chunks.update({c.id: c for c in idx.get_chunks(top)})
    result = rerank_passages(reranker, query, [chunks[i].text for i in top])
    return [top[i] for i in result.order], result.scores.tolist()


def _traces(doc_ids: list[int], scores: list[float]) -> dict[int, StageTrace]:
    return {
        d: StageTrace(r, float(s)) for r, (d, s) in enumerate(zip(doc_ids, scores, strict=True), 1)
    }


def _first_stage_traces(doc_ids: list[int], hits: Any) -> dict[int, StageTrace]:
    ranks = hits.first_rank[0] if hits.first_rank is not None else [None] * len(doc_ids)
    return {
        d: StageTrace(None if r is None else int(r), float(s))
        for d, r, s in zip(doc_ids, ranks, hits.first_stage[0], strict=True)
    }
