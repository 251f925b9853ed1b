"""The retrieval grid: every (model, mode, dims, quantization) on one test collection.

Each model embeds the corpus once (cached on disk, see :mod:`embedlab.evaluate.cache`);
every configuration then only searches, through :class:`embedlab.search.retrieve.Retriever`,
the retrieval path :func:`embedlab.search.pipeline.search` runs (``DenseIndex`` with its
Matryoshka and quantized first stages, ``BM25Index``, reciprocal rank fusion, the
cross-encoder reranker, the same depths). The ``rerank`` mode is dense search whose top
``max(k, 50)`` are reranked (``search(mode="dense", rerank=..., rerank_candidates=max(k, 50))``).

By default a Matryoshka or quantized configuration is measured on its first stage's own
ranking (truncated cosine, int8 dot product, Hamming distance): the quality of the smaller
index alone. With ``rescore=True`` the first stage's candidates are rescored with the full
float vectors, as the search pipeline does; its index size then counts the float vectors.

A run gives each returned document the score ``k - rank + 1``, so the metrics measure exactly
the order the system returned (trec_eval would otherwise re-break ties by document id).
Latency is measured per query, one query at a time (FAISS on one thread), after one
warm-up query; the median is reported.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import InputError
from embedlab.evaluate.cache import embed_cached
from embedlab.evaluate.datasets import RetrievalDataset
from embedlab.evaluate.metrics import RunMetrics, evaluate_run
from embedlab.evaluate.timing import timed_calls
from embedlab.models.base import Encoder
from embedlab.search.rerank import RERANK_CANDIDATES
from embedlab.search.retrieve import RetrievalConfig, Retrieved, Retriever, check_candidates
from embedlab.stores.dense import DenseIndex
from embedlab.stores.keyword import BM25Index
from embedlab.vectors import index_storage_bytes

Progress = Callable[[str], None]
#: modes the grid knows; "rerank" reranks the dense top candidates with a cross-encoder.
MODES: tuple[str, ...] = ("dense", "bm25", "hybrid", "rerank")
QUANTIZE: dict[str, str | None] = {
    "none": None,
    "float32": None,
    "int8": "int8",
    "binary": "binary",
}
LATENCY_SAMPLE = 100  # queries timed one by one per configuration


@dataclass(frozen=True)
class GridConfig:
    """One point of the grid. ``model`` is ``None`` for BM25 (no model involved)."""

    mode: str
    model: str | None = None
    dims: int | None = None
    quantize: str | None = None

    @property
    def label(self) -> str:
        if self.model is None:
            return self.mode
        return f"{self.model} {self.mode} {self.dims}d {self.quantize or 'float32'}"


@dataclass
class ConfigResult:
    """Metrics, sizes and latency of one configuration, and its ranked run."""

    config: GridConfig
    metrics: RunMetrics
    bytes_per_vector: int | None
    index_bytes: int
    search_ms: float
    embed_ms: float | None
    ranked: dict[str, list[str]] = field(repr=False, default_factory=dict)
    #: the score of each ranked document as the retriever gave it (cosine, BM25, RRF,
    #: reranker or first-stage score), aligned with :attr:`ranked`.
    scores: dict[str, list[float]] = field(repr=False, default_factory=dict)

    @property
    def latency_ms(self) -> float:
        """Search plus query embedding, per query."""
        return self.search_ms + (self.embed_ms or 0.0)

    def row(self, names: Sequence[str]) -> dict[str, Any]:
        c = self.config
        out: dict[str, Any] = {
            "config": c.label,
            "model": c.model or "-",
            "mode": c.mode,
            "dims": c.dims,
            "quantize": c.quantize or ("float32" if c.model else "-"),
        }
        out.update({n: self.metrics.mean[n] for n in names})
        out.update(
            bytes_per_vector=self.bytes_per_vector,
            index_mb=self.index_bytes / 1e6,
            search_ms=self.search_ms,
            embed_ms=self.embed_ms,
            latency_ms=self.latency_ms,
        )
        return out


@dataclass
class GridResult:
    """All configurations of one grid run on one data set."""

    dataset: dict[str, Any]
    ks: tuple[int, ...]
    results: list[ConfigResult]
    embedding: dict[str, dict[str, Any]]
    queries: dict[str, str]
    seconds: float

    @property
    def primary(self) -> str:
        """The metric plots and sorting use: nDCG at the largest cutoff."""
        return f"nDCG@{max(self.ks)}"

    @property
    def metric_names(self) -> list[str]:
        return self.results[0].metrics.names if self.results else []

    def rows(self) -> list[dict[str, Any]]:
        return [r.row(self.metric_names) for r in self.results]

    def to_dict(self, per_query: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dataset": self.dataset,
            "ks": list(self.ks),
            "primary": self.primary,
            "metrics": self.metric_names,
            "rows": self.rows(),
            "embedding": self.embedding,
            "seconds": self.seconds,
        }
        if per_query:
            out["queries"] = self.queries
            out["per_query"] = {r.config.label: r.metrics.per_query for r in self.results}
            out["ranked"] = {r.config.label: r.ranked for r in self.results}
        return out


def parse_list(value: str | Sequence[Any] | None) -> list[str]:
    """``"a,b"`` or ``["a", "b"]`` -> ``["a", "b"]`` (blanks dropped)."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [v.strip() for v in items if v.strip()]


def check_grid(
    modes: Sequence[str],
    dims: Sequence[int] | None = None,
    quantize: Sequence[str] = ("none",),
    reranker: Any = None,
) -> None:
    """Check a grid's settings before any model loads or any document is embedded.

    :raises InputError: an unknown mode or precision, dims below 1, or the rerank mode
        without a reranker.
    """
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise InputError(f"Unknown mode {bad[0]!r}: use any of {', '.join(MODES)}.")
    badq = [q for q in quantize if q not in QUANTIZE]
    if badq:
        raise InputError(f"Unknown quantization {badq[0]!r}: use any of {', '.join(QUANTIZE)}.")
    if dims and min(dims) < 1:
        raise InputError(f"Matryoshka dims must be at least 1, got {min(dims)}.")
    if "rerank" in modes and reranker is None:
        raise InputError(
            "The rerank mode needs a cross-encoder: choose a reranker (the Measure page lists those "
            "on this machine; the CLI takes --reranker NAME_OR_FOLDER)."
        )


def expand_grid(
    models: Sequence[tuple[str, int]],
    modes: Sequence[str],
    dims: Sequence[int] | None = None,
    quantize: Sequence[str] = ("none",),
) -> list[GridConfig]:
    """Every configuration: BM25 once, each model-based mode at every dims and precision.

    :param models: ``(name, full dims)`` pairs; dims above a model's size are skipped.
    :raises InputError: unknown mode or precision, or nothing to run.
    """
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise InputError(f"Unknown mode {bad[0]!r}: use any of {', '.join(MODES)}.")
    badq = [q for q in quantize if q not in QUANTIZE]
    if badq:
        raise InputError(f"Unknown quantization {badq[0]!r}: use any of {', '.join(QUANTIZE)}.")
    configs: list[GridConfig] = [GridConfig("bm25")] if "bm25" in modes else []
    for name, full in models:
        sizes = sorted({d for d in (dims or [full]) if 0 < d <= full}, reverse=True) or [full]
        for mode in (m for m in modes if m != "bm25"):
            for d in sizes:
                for q in dict.fromkeys(QUANTIZE[q] for q in quantize):
                    configs.append(GridConfig(mode, name, d, q))
    if not configs:
        raise InputError(
            "The grid is empty: name at least one mode (dense, bm25, hybrid, rerank) and, "
            "for dense modes, at least one model."
        )
    return configs


def _timed(fn: Callable[[int], Retrieved], n: int) -> tuple[list[Retrieved], float]:
    """Run ``fn`` on every query index; median milliseconds over a sample (after a warm-up)."""
    return timed_calls(fn, n, LATENCY_SAMPLE)


def _bm25_bytes(index: BM25Index) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        index.save(Path(tmp))
        return sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())


@dataclass(frozen=True)
class _Raw:
    config: GridConfig
    found: list[Retrieved]
    bpv: int | None
    size: int
    ms: float
    embed_ms: float | None


@dataclass
class _ModelState:
    encoder: Encoder
    index: DenseIndex
    queries: np.ndarray
    embed_ms: float


def _query_embed_ms(encoder: Encoder, texts: list[str], sample: int) -> float:
    """Median milliseconds to embed one query (one at a time, one thread, after a warm-up)."""
    picked = texts[:sample]
    if not picked:
        return 0.0
    _, ms = timed_calls(lambda i: encoder.embed(picked[i], role="query"), len(picked), sample)
    return ms


def _dense_bytes(
    state: _ModelState, d: int | None, q: str | None, rescore: bool
) -> tuple[int, int]:
    index = state.index
    size = d or index.dims
    return index.bytes_per_vector(d, q), index_storage_bytes(
        index.n, size, index.dims, q, rescore=rescore
    )


def run_grid(
    dataset: RetrievalDataset,
    models: Sequence[str | Encoder],
    modes: Sequence[str] = ("dense",),
    dims: Sequence[int] | None = None,
    quantize: Sequence[str] = ("none",),
    *,
    k: int = 10,
    ks: Sequence[int] | None = None,
    reranker: Any = None,
    rescore: bool = False,
    cache: bool = True,
    latency_sample: int = 10,
    progress: Progress | None = None,
    candidates: int | None = None,
) -> GridResult:
    """Run every configuration of the grid on ``dataset``.

    :param models: names (loaded with :func:`embedlab.models.load_model`) or encoders.
    :param modes: any of :data:`MODES`.
    :param dims: Matryoshka sizes to try (default: each model's full size).
    :param quantize: any of ``none``, ``int8``, ``binary``.
    :param k: results per query (the deepest cutoff); ``ks`` adds smaller cutoffs
        (default 1, 5 and ``k``).
    :param reranker: a cross-encoder name or folder (required by the ``rerank`` mode).
    :param rescore: rescore Matryoshka/quantized first stages with the full float vectors
        (the search pipeline's two-stage behaviour, which needs the float vectors too); by
        default the first stage's own ranking is measured: what the smaller index alone gives.
    :param cache: read and write the embedding cache.
    :param latency_sample: queries embedded one at a time to measure query embedding latency.
    :param candidates: with ``rescore``: the rescoring depth of every Matryoshka/quantized
        configuration (at least ``k``; ``None``: the stage's default).
    """
    from embedlab.models import load_model
    from embedlab.search.rerank import resolve_reranker

    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}.")
    check_grid(modes, dims, quantize, reranker)  # before any model loads
    staged = [QUANTIZE[q] for q in quantize if QUANTIZE.get(q)]
    check_candidates(candidates, k, min(dims) if dims else None, staged[0] if staged else None,
                     rescore)  # fmt: skip
    cutoffs = tuple(sorted({c for c in (ks or (1, 5, k)) if c <= k} | {k}))
    needs_models = any(m != "bm25" for m in modes)
    encoders = [load_model(m) if isinstance(m, str) else m for m in models] if needs_models else []
    names = [e.info.name for e in encoders]
    if len(set(names)) != len(names):
        raise InputError(f"A model is named twice in {names}: name each once.")
    configs = expand_grid([(e.info.name, e.info.dims) for e in encoders], modes, dims, quantize)
    scorer = None
    if any(c.mode == "rerank" for c in configs):
        if reranker is None:
            raise InputError(
                "The rerank mode needs a cross-encoder: choose a reranker (the Measure page lists those "
                "on this machine; the CLI takes --reranker NAME_OR_FOLDER)."
            )
        scorer = resolve_reranker(reranker)
    queries = dataset.judged_queries
    qids, qtexts = list(queries), list(queries.values())
    doc_ids, texts = dataset.doc_ids, dataset.doc_texts()
    embedding: dict[str, dict[str, Any]] = {}
    states: dict[str, _ModelState] = {}
    for enc in encoders:
        say(f"embedding {len(texts)} documents with {enc.info.name}")
        docs = embed_cached(enc, texts, "document", cache=cache)
        qv = embed_cached(enc, qtexts, "query", cache=cache)
        states[enc.info.name] = _ModelState(
            enc, DenseIndex(docs.vectors), qv.vectors, _query_embed_ms(enc, qtexts, latency_sample)
        )
        embedding[enc.info.name] = {
            "documents": len(texts),
            "dims": enc.info.dims,
            "seconds": docs.seconds + qv.seconds,
            "cached": docs.cached and qv.cached,
            "query_embed_ms": states[enc.info.name].embed_ms,
            "fingerprint": enc.info.fingerprint,
        }
    bm25 = BM25Index(texts) if any(c.mode in ("bm25", "hybrid") for c in configs) else None
    bm25_bytes = _bm25_bytes(bm25) if bm25 is not None else 0
    results = []
    for n, config in enumerate(configs, 1):
        say(f"[{n}/{len(configs)}] {config.label}")
        raw = _run_config(
            config, states, bm25, bm25_bytes, scorer, qtexts, texts, k, rescore, candidates
        )
        ranked = {q: [doc_ids[i] for i in f.ids] for q, f in zip(qids, raw.found, strict=True)}
        scores = {q: f.scores for q, f in zip(qids, raw.found, strict=True)}
        run = {q: {d: float(k - r) for r, d in enumerate(docs)} for q, docs in ranked.items()}
        metrics = evaluate_run(dataset.qrels, run, cutoffs, warn=False)
        results.append(
            ConfigResult(config, metrics, raw.bpv, raw.size, raw.ms, raw.embed_ms, ranked, scores)
        )
    return GridResult(
        dataset.summary(), cutoffs, results, embedding, queries, time.perf_counter() - started
    )


def grid_retrieval(
    config: GridConfig, k: int, rescore: bool, full_dims: int, candidates: int | None = None
) -> RetrievalConfig:
    """The :class:`RetrievalConfig` a grid configuration runs (``rerank``: dense, reranked);
    ``candidates`` (the rescoring depth) applies to the rescored Matryoshka/quantized ones."""
    mode = "dense" if config.mode == "rerank" else config.mode
    dims = config.dims if config.dims and config.dims < full_dims else None
    staged = rescore and (dims is not None or config.quantize is not None)
    return RetrievalConfig(
        mode, k, dims, config.quantize, rescore, rerank_candidates=max(k, RERANK_CANDIDATES),
        candidates=candidates if staged else None,
    )  # fmt: skip


def _run_config(
    config: GridConfig,
    states: dict[str, _ModelState],
    bm25: BM25Index | None,
    bm25_bytes: int,
    scorer: Any,
    qtexts: list[str],
    texts: list[str],
    k: int,
    rescore: bool,
    candidates: int | None = None,
) -> _Raw:
    """Search every query for one configuration; the caller measures the run."""
    if config.mode == "bm25":
        assert bm25 is not None
        retriever = Retriever(RetrievalConfig("bm25", k), keyword=bm25)
        out, ms = _timed(lambda i: retriever.run(qtexts[i]), len(qtexts))
        return _Raw(config, out, None, bm25_bytes, ms, None)
    state = states[str(config.model)]
    settings = grid_retrieval(config, k, rescore, state.index.dims, candidates)
    retriever = Retriever(
        settings,
        dense=state.index,
        keyword=bm25 if config.mode == "hybrid" else None,
        reranker=scorer if config.mode == "rerank" else None,
        passages=lambda rows: [texts[j] for j in rows],
    )
    out, ms = _timed(lambda i: retriever.run(qtexts[i], state.queries[i]), len(qtexts))
    bpv, size = _dense_bytes(state, settings.dims, settings.quantize, rescore)
    size += bm25_bytes if config.mode == "hybrid" else 0
    return _Raw(config, out, bpv, size, ms, state.embed_ms)


def pareto_front(
    rows: Sequence[dict[str, Any]], metric: str, cost: str = "bytes_per_vector"
) -> list[int]:
    """Indices of the rows no other row beats: none is at most as costly and strictly better,
    or strictly cheaper and at least as good. Rows without a cost (BM25) are left out."""
    points = [(i, r[cost], r[metric]) for i, r in enumerate(rows) if r.get(cost) is not None]
    front = []
    for i, c, m in points:
        beaten = any((c2 <= c and m2 > m) or (c2 < c and m2 >= m) for j, c2, m2 in points if j != i)
        if not beaten:
            front.append(i)
    return sorted(front, key=lambda i: rows[i][cost])


__all__ = [
    "MODES",
    "QUANTIZE",
    "ConfigResult",
    "GridConfig",
    "GridResult",
    "expand_grid",
    "grid_retrieval",
    "pareto_front",
    "parse_list",
    "run_grid",
]
