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
from embedlab.search.fusion import RRF_K
from embedlab.search.rerank import RERANK_CANDIDATES
from embedlab.search.retrieve import (
    HYBRID_DEPTH,
    MODES,
    RetrievalConfig,
    Retriever,
    Stage,
    check_candidates,
)
from embedlab.stores.base import Chunk, Index
from embedlab.stores.filters import filter_pairs, matching_rows, parse_filter
from embedlab.stores.quantized import QUANTIZATIONS

#: every stage a hit can be traced through, in pipeline order.
STAGES: tuple[str, ...] = ("bm25", "dense_first", "dense", "fused", "reranked")


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
    """``["field=value", ...]`` (or a dict) -> ``{field: value}``
    (:func:`embedlab.stores.filters.filter_pairs`).

    :raises InputError: for an item without ``=`` or with an empty field name.
    """
    return {} if filters is None else filter_pairs(filters)


def filter_rows(metadata: list[dict[str, Any]], filters: dict[str, str]) -> np.ndarray | None:
    """Row positions whose metadata matches every filter (values compared as text).

    :raises InputError: when a field appears in no chunk's metadata (lists those that do).
    """
    return matching_rows(metadata, parse_filter(filters))


def check_options(
    query: str,
    *,
    k: int = 10,
    mode: str = "dense",
    dims: int | None = None,
    quantize: str | None = None,
    rerank_candidates: int = RERANK_CANDIDATES,
    filters: Sequence[str] | dict[str, str] | None = None,
    candidates: int | None = None,
) -> dict[str, str]:
    """Check a search's settings before anything is opened or loaded; returns the filters.

    :raises InputError: an empty query, an unknown mode or quantization, k, dims or rerank
        candidates below 1, --dims/--quantize with keyword-only search, a rescoring depth
        (``candidates``) below k or without a first stage, a malformed filter.
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
    check_candidates(candidates, k, dims, quantize)
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
    rescore: bool = True,
    prior: dict[str, float] | None = None,
    candidates: int | None = None,
) -> SearchResult:
    """Search ``index`` for ``query``; see the module docstring.

    The stages run in :class:`embedlab.search.retrieve.Retriever`, the one retrieval path
    the evaluation grid and the training evaluation use too.

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
        callers that embed many queries in one batch; time it and pass it in ``prior``
        (``{"embed": seconds}``), or no embed time is shown.
    :param prior: seconds the caller spent on this request before this call (opening the
        index, loading the model, embedding the query), shown with the stages and counted
        in ``total``, so that every timing includes what it names.
    :param rescore: ``False`` keeps a Matryoshka/quantized first stage's own ranking and
        scores instead of rescoring its candidates with the float vectors.
    :param candidates: the rescoring depth of a Matryoshka/quantized first stage (at least
        ``k``; ``None``: :func:`embedlab.stores.quantized.default_candidates`). The depth used is
        ``settings["rescore_depth"]`` (``None`` when nothing was rescored).
    """
    started = time.perf_counter()
    wanted = check_options(
        query, k=k, mode=mode, dims=dims, quantize=quantize,
        rerank_candidates=rerank_candidates, filters=filters, candidates=candidates,
    )  # fmt: skip
    idx = _open(index)
    timings: dict[str, float] = dict(prior or {})
    generation = idx.generation
    expr = parse_filter(wanted)
    rows = idx.count(expr)  # refuses a field no chunk has, before the model loads
    config = RetrievalConfig(
        mode, k, dims, quantize, rescore, rerank_candidates, HYBRID_DEPTH, rrf_k,
        None if weights is None else tuple(weights), candidates=candidates,
    ).check()  # fmt: skip
    qv = None
    if "dense" in MODES[mode]:
        qv = _query_vector(idx, query, encoder, query_vector, timings)
    chunks: dict[int, Chunk] = {}

    def passages(top: list[int]) -> list[str]:
        found = idx.get_chunks(top)
        chunks.update({c.id: c for c in found})
        return [c.text for c in found]

    retriever = Retriever(config, index=idx, filter=expr, reranker=rerank, passages=passages)
    got = retriever.run(query, qv)
    timings.update(got.timings)
    order = [int(i) for i in got.ids]
    t = time.perf_counter()
    missing = [i for i in order if i not in chunks]
    chunks.update({c.id: c for c in idx.get_chunks(missing)})
    timings["fetch"] = time.perf_counter() - t
    traces = {name: _traces(stage) for name, stage in got.stages.items()}
    stage_names: list[str] = [s for s in STAGES if s in traces]
    out = [
        Hit(
            chunk=chunks[doc],
            rank=r,
            score=float(score),
            stages={s: traces[s].get(doc, StageTrace(None, None)) for s in stage_names},
        )
        for r, (doc, score) in enumerate(zip(order, got.scores, strict=True), start=1)
    ]
    timings["total"] = time.perf_counter() - started + sum((prior or {}).values())
    settings = {
        "dims": dims,
        "quantize": quantize,
        "filters": wanted,
        "rerank": None if rerank is None else str(getattr(rerank, "name", rerank)),
        "rerank_candidates": rerank_candidates if rerank is not None else None,
        "rrf_k": rrf_k if mode == "hybrid" else None,
        "generation": generation,
        "candidates": rows,
        "rescore_depth": got.rescore_depth,  # as the store that ran the query says
        "rescore_depth_asked": candidates,
    }
    if not rescore:
        settings["rescore"] = False
    return SearchResult(query, idx.name, mode, k, out, stage_names, timings, settings)


def _query_vector(
    idx: Index,
    query: str,
    encoder: Encoder | None,
    query_vector: np.ndarray | None,
    timings: dict[str, float],
) -> np.ndarray:
    """The query's embedding (given, or made by ``encoder``), the model checked against
    the index's fingerprint."""
    if encoder is None:
        from embedlab.models import load_model

        encoder = load_model(idx.model_name)
    idx.check_model(encoder)
    if query_vector is not None:  # embedded by the caller, who times it (``prior``)
        return np.asarray(query_vector)
    t = time.perf_counter()
    qv = encoder.embed(query, role="query")[0]
    timings["embed"] = time.perf_counter() - t
    return np.asarray(qv)


def _traces(stage: Stage) -> dict[int, StageTrace]:
    """Chunk id -> its rank and score in ``stage``."""
    ranks = stage.ranks or range(1, len(stage.ids) + 1)
    return {
        int(i): StageTrace(int(r), float(s))
        for i, r, s in zip(stage.ids, ranks, stage.scores, strict=True)
    }
