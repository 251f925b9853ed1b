"""One retrieval path: first stages (dense, BM25), fusion and reranking, for every caller.

:func:`embedlab.search.pipeline.search` (CLI, Search and Ask pages), the evaluation grid
(:mod:`embedlab.evaluate.grid`) and the training evaluation
(:mod:`embedlab.train.retrieval_eval`) all run their queries through
:meth:`Retriever.run_many`, so what a grid measures is what ``embedlab search`` returns.

>>> config = RetrievalConfig(mode="hybrid", k=10, dims=128)
>>> retriever = Retriever(config, index=open_index("notes"), filter=Eq("lang", "en"))
>>> retriever = Retriever(config, dense=DenseIndex(vectors), keyword=BM25Index(texts))
>>> got = retriever.run("how do vaccines work", query_vector)
>>> got.ids, got.scores, got.stages["bm25"].ids

The first stages run where the data lives: the Retriever calls ``index.search`` (dense) and
``index.keyword`` (BM25) of a :class:`~embedlab.stores.base.QueryIndex` (a store, whose ids
are chunk ids), or of a :class:`~embedlab.stores.local.LocalQueries` over the arrays given
as ``dense=``/``keyword=`` (ids are their row positions). Each :class:`Stage` is one stage's own ranking, best first:
``bm25``, ``dense`` (``dense_first`` holds the first-stage rank and score of each dense hit
when a Matryoshka or quantized first stage was rescored), ``fused`` and ``reranked``.

Hybrid fusion runs in the engine when the index offers ``hybrid(...)`` (Milvus'
``hybrid_search`` with an RRF ranker) and the config is plain RRF over a float dense stage
(no weights, dims, quantize or forced exact/ANN); else it runs here (:func:`rrf`).

Depths: each retriever returns ``k`` candidates; ``hybrid_depth`` each in hybrid mode
(fusion cuts to ``k``); at least ``rerank_candidates`` when reranking, of which the first
``rerank_candidates`` are rescored. With ``rescore=False`` a Matryoshka or quantized first
stage is not rescored: its own ranking and scores are the dense result (what the smaller
index alone gives, the grid's default measure). A rescored first stage passes ``candidates``
rows (the rescoring depth; ``None``: :func:`~embedlab.stores.quantized.default_candidates`) to the
float vectors; :attr:`Retrieved.rescore_depth` is how many it passed, as the store that ran
the query says (:attr:`~embedlab.stores.base.Candidates.depth`: a store applies its own
limits, e.g. Milvus' top-k cap), not recomputed here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedlab.errors import BM25UnavailableError, InputError
from embedlab.search.fusion import RRF_K, rrf
from embedlab.search.rerank import RERANK_CANDIDATES, rerank
from embedlab.stores.base import Candidates, FirstStage, QueryIndex
from embedlab.stores.filters import Filter
from embedlab.stores.local import LazyDense, LazyKeyword, LocalQueries

#: mode -> the first-stage retrievers it runs.
MODES: dict[str, tuple[str, ...]] = {
    "dense": ("dense",),
    "bm25": ("bm25",),
    "hybrid": ("bm25", "dense"),
}
#: how many candidates each retriever returns in hybrid mode (before fusion cuts to k).
HYBRID_DEPTH = 100


@dataclass(frozen=True)
class RetrievalConfig:
    """What to run for each query.

    :param mode: ``dense``, ``bm25`` or ``hybrid`` (reciprocal rank fusion of both).
    :param k: results per query.
    :param dims: Matryoshka first stage on the first ``dims`` dimensions.
    :param quantize: ``int8`` or ``binary`` first stage.
    :param rescore: rescore a Matryoshka/quantized first stage with the float vectors
        (``False``: the first stage's own ranking and scores).
    :param rerank_candidates: how many of the top results the reranker rescores.
    :param hybrid_depth: candidates each retriever returns in hybrid mode.
    :param rrf_k: the reciprocal rank fusion constant.
    :param weights: RRF weights for (bm25, dense).
    :param exact: force exact (``True``) or ANN (``False``) dense search; ``None``: by size.
    :param candidates: the rescoring depth: first-stage rows rescored with the float vectors
        (at least ``k``; ``None``: :func:`~embedlab.stores.quantized.default_candidates`).
    """

    mode: str = "dense"
    k: int = 10
    dims: int | None = None
    quantize: str | None = None
    rescore: bool = True
    rerank_candidates: int = RERANK_CANDIDATES
    hybrid_depth: int = HYBRID_DEPTH
    rrf_k: int = RRF_K
    weights: tuple[float, ...] | None = None
    exact: bool | None = None
    candidates: int | None = None

    def check(self) -> RetrievalConfig:
        """Refuse an unknown mode, ``k < 1``, dims/quantize without a dense stage, or a
        rescoring depth that :func:`check_candidates` refuses.

        :raises InputError: with what to change.
        """
        if self.mode not in MODES:
            raise InputError(f"Unknown mode {self.mode!r}: use one of {', '.join(MODES)}.")
        if self.k < 1:
            raise InputError(f"k must be at least 1, got {self.k}.")
        if "dense" not in MODES[self.mode] and (self.dims is not None or self.quantize):
            raise InputError(
                "--dims and --quantize apply to dense search: use --mode dense or hybrid."
            )
        check_candidates(self.candidates, self.k, self.dims, self.quantize, self.rescore)
        return self

    def depth(self, reranking: bool) -> int:
        """Candidates each first-stage retriever returns."""
        depth = max(self.k, self.rerank_candidates if reranking else 0)
        return max(depth, self.hybrid_depth) if self.mode == "hybrid" else depth


def check_candidates(
    candidates: int | None,
    k: int,
    dims: int | None,
    quantize: str | None,
    rescore: bool = True,
) -> None:
    """Refuse a rescoring depth below ``k``, or one given without a first stage to rescore
    (no ``dims``/``quantize``, or ``rescore=False``).

    :raises InputError: with what to change.
    """
    if candidates is None:
        return
    if dims is None and quantize is None:
        raise InputError(
            "The rescoring depth (candidates) is how many first-stage rows are rescored with "
            "the float vectors: it needs a dims or quantize first stage; plain float search "
            "has none to rescore."
        )
    if not rescore:
        raise InputError(
            "The rescoring depth (candidates) was given but rescoring is off: turn it on "
            "(--rescore) or leave the depth out."
        )
    if candidates < k:
        raise InputError(
            f"The rescoring depth (candidates) must be at least k = {k}, got {candidates}: "
            "the first stage must pass at least as many rows as results are asked for."
        )


@dataclass(frozen=True)
class Stage:
    """One stage's ranking: row ids and scores, best first.

    ``ranks`` is set when the 1-based ranks are not simply 1, 2, ... (``dense_first``: the
    rank each dense hit had in the first stage).
    """

    ids: list[int]
    scores: list[float]
    ranks: list[int] | None = None


@dataclass
class Retrieved:
    """The final ranking of one query (row ids and scores, best first, at most ``k``), every
    stage's own ranking, and the seconds each stage took.

    ``rescore_depth``: how many first-stage rows the dense stage rescored with the float
    vectors, as the store reported it (:attr:`~embedlab.stores.base.Candidates.depth`);
    ``None`` when nothing was rescored (a float first stage, ``rescore=False``, no rows).
    """

    ids: list[int]
    scores: list[float]
    stages: dict[str, Stage] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    rescore_depth: int | None = None


class Retriever:
    """Runs a :class:`RetrievalConfig` over a :class:`~embedlab.stores.base.QueryIndex`.

    :param index: the index answering the first stages (``index.search``,
        ``index.keyword``); or give ``dense``/``keyword`` arrays' indexes instead.
    :param filter: only rows passing this expression are returned.
    :param dense: a :class:`DenseIndex` (or a function making it when first needed).
    :param keyword: a :class:`BM25Index` (or a function making it).
    :param rows: with ``dense``/``keyword``: restrict results to these row positions.
    :param reranker: a reranker name/folder, Reranker or CrossEncoder; ``None``: no rerank.
    :param passages: texts of the given ids, for the reranker.
    """

    def __init__(
        self,
        config: RetrievalConfig,
        *,
        index: QueryIndex | None = None,
        filter: Filter | None = None,
        dense: LazyDense | None = None,
        keyword: LazyKeyword | None = None,
        rows: np.ndarray | None = None,
        reranker: Any = None,
        passages: Callable[[list[int]], list[str]] | None = None,
    ) -> None:
        self.config = config.check()
        self.filter = filter
        self.reranker = reranker
        self._passages = passages
        wanted = MODES[config.mode]
        if index is None:
            if "dense" in wanted and dense is None:
                raise InputError(f"Mode {config.mode!r} needs a dense index.")
            if "bm25" in wanted and keyword is None:
                raise InputError(f"Mode {config.mode!r} needs a BM25 index.")
            index = LocalQueries(dense, keyword, restrict=rows)
        self.index: QueryIndex = index
        if reranker is not None and passages is None:
            raise InputError("Reranking needs the passages' texts: pass passages=.")

    # --- running ------------------------------------------------------------------------

    def run(self, query: str, query_vector: np.ndarray | None = None) -> Retrieved:
        """Retrieve for one query (``query_vector``: its embedding, for dense modes)."""
        vectors = None if query_vector is None else np.atleast_2d(query_vector)
        return self.run_many([query], vectors)[0]

    def run_many(
        self, queries: Sequence[str], vectors: np.ndarray | None = None
    ) -> list[Retrieved]:
        """Retrieve for each query; the dense first stage searches all vectors in one batch.

        :param vectors: ``(len(queries), d)`` query embeddings; needed by dense modes.
        """
        cfg = self.config
        depth = cfg.depth(self.reranker is not None)
        out = [Retrieved([], []) for _ in queries]
        if "dense" in MODES[cfg.mode]:
            if vectors is None or len(vectors) != len(queries):
                raise InputError("Dense retrieval needs one query vector per query.")
            self._dense_stage(vectors, depth, out)
        if "bm25" in MODES[cfg.mode]:
            for query, got in zip(queries, out, strict=True):
                t = time.perf_counter()
                found = self.index.keyword(query, depth, self.filter)
                got.timings["bm25"] = time.perf_counter() - t
                got.stages["bm25"] = Stage(found.ids.tolist(), found.scores.tolist())
        if self._engine_fuses(vectors):
            assert vectors is not None
            for query, vector, got in zip(queries, vectors, out, strict=True):
                self._engine_fusion(query, vector, depth, got)
        for query, got in zip(queries, out, strict=True):
            self._finish(query, got)
        return out

    def _engine_fuses(self, vectors: np.ndarray | None) -> bool:
        """Whether hybrid fusion runs in the engine: the index offers ``hybrid(...)`` (BM25
        and float dense fused by RRF there, as Milvus' ``hybrid_search``) and the config
        asks for just that: no RRF weights, a plain float dense stage, exact/ANN by size."""
        cfg = self.config
        return (
            cfg.mode == "hybrid"
            and vectors is not None
            and callable(getattr(self.index, "hybrid", None))
            and cfg.weights is None
            and cfg.dims is None
            and cfg.quantize is None
            and cfg.exact is None
        )

    def _engine_fusion(self, query: str, vector: np.ndarray, depth: int, got: Retrieved) -> None:
        """The ``fused`` stage from the index's own hybrid search (each retriever ``depth``
        deep, RRF with ``rrf_k``); on a server without BM25 the local fusion runs instead."""
        t = time.perf_counter()
        try:
            found = self.index.hybrid(  # type: ignore[attr-defined]
                query, vector, depth, depth=depth, filter=self.filter, rrf_k=self.config.rrf_k
            )
        except BM25UnavailableError:
            return  # keyword() ran here already (it said so); _finish fuses locally
        got.timings["fuse"] = time.perf_counter() - t
        got.stages["fused"] = Stage([int(i) for i in found.ids], found.scores.tolist())

    def _dense_stage(self, vectors: np.ndarray, depth: int, out: list[Retrieved]) -> None:
        cfg = self.config
        t = time.perf_counter()
        stage = FirstStage(
            cfg.dims, cfg.quantize, cfg.candidates if cfg.rescore else depth, cfg.exact
        )
        hits = self.index.search(vectors, depth, filter=self.filter, stage=stage)
        if hits.ids.shape[1] == 0:  # nothing to search (an empty index, a filter of none)
            for got in out:
                got.stages["dense"] = Stage([], [])
            return
        seconds = (time.perf_counter() - t) / max(len(out), 1)
        for row, got in enumerate(out):
            got.timings["dense"] = seconds
            got.stages.update(self._dense_stages(hits, row))
            got.rescore_depth = hits.depth if cfg.rescore else None

    def _dense_stages(self, hits: Candidates, row: int) -> dict[str, Stage]:
        """The dense stage (and its first stage) of query ``row``."""
        ids, scores = hits.ids[row], hits.scores[row]
        first, ranks = hits.first_scores, hits.first_rank
        if first is not None and ranks is not None and not self.config.rescore:
            order = np.argsort(ranks[row], kind="stable")  # the first stage's own order
            ids, scores, first = ids[order], first[row][order], None
        doc = [int(p) for p in ids]
        stages = {"dense": Stage(doc, scores.tolist())}
        if first is not None and ranks is not None:
            stages["dense_first"] = Stage(doc, first[row].tolist(), [int(r) for r in ranks[row]])
        return stages

    def _finish(self, query: str, got: Retrieved) -> None:
        """Fuse (hybrid), rerank, and cut to ``k``."""
        cfg = self.config
        if cfg.mode == "hybrid" and "fused" not in got.stages:
            t = time.perf_counter()
            bm25, dense = got.stages["bm25"].ids, got.stages["dense"].ids
            fused = rrf([bm25, dense], k=cfg.rrf_k, weights=cfg.weights)
            got.timings["fuse"] = time.perf_counter() - t
            got.stages["fused"] = Stage([d for d, _ in fused], [s for _, s in fused])
        final = got.stages["fused" if cfg.mode == "hybrid" else MODES[cfg.mode][0]]
        order, scores = final.ids, final.scores
        if self.reranker is not None and order:
            t = time.perf_counter()
            top = order[: cfg.rerank_candidates]
            assert self._passages is not None
            result = rerank(self.reranker, query, self._passages(top), index=self.index, ids=top)
            order, scores = [top[int(i)] for i in result.order], result.scores.tolist()
            got.stages["reranked"] = Stage(order, scores)
            got.timings["rerank"] = time.perf_counter() - t
        got.ids, got.scores = order[: cfg.k], scores[: cfg.k]


__all__ = [
    "HYBRID_DEPTH",
    "MODES",
    "RetrievalConfig",
    "Retrieved",
    "Retriever",
    "Stage",
    "check_candidates",
]
