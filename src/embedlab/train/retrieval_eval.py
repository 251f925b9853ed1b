"""Before/after measurements for trained models, with the shared metrics (``evaluate_run``).

- :func:`evaluate_bi_encoder`: dense retrieval on a data set, at the full dimension and at
  each Matryoshka cut (first ``d`` components, renormalised, searched exactly), recall@10
  and nDCG@10.
- :func:`evaluate_reranked`: the bi-encoder's top candidates rescored by a cross-encoder.

Both retrieve through :class:`embedlab.search.retrieve.Retriever`, the path ``embedlab
search`` and the evaluation grid run (exact dense search; the reranker rescores the top
``candidates``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedlab.evaluate.datasets import RetrievalDataset
from embedlab.evaluate.metrics import evaluate_run
from embedlab.search.retrieve import RetrievalConfig, Retrieved, Retriever
from embedlab.stores.dense import DenseIndex
from embedlab.vectors.matryoshka import truncate

KS: tuple[int, ...] = (1, 5, 10)
#: the two numbers each report leads with.
HEADLINE: tuple[str, ...] = ("recall@10", "nDCG@10")


@dataclass(frozen=True)
class RetrievalScore:
    """Mean metrics of one model (at one dimension) on one data set."""

    model: str
    dims: int
    metrics: dict[str, float]

    @property
    def recall10(self) -> float:
        return self.metrics["recall@10"]

    @property
    def ndcg10(self) -> float:
        return self.metrics["nDCG@10"]


def encode(model: Any, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Embed with a sentence-transformers model (no normalisation; float32)."""
    out = model.encode(
        list(texts), batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(out, dtype=np.float32)


@dataclass(frozen=True)
class _ScoreFunction:
    """A ``score(query, passages)`` function as a reranker object."""

    score: Callable[[str, list[str]], np.ndarray]
    name: str = "reranker"


def _retrieve(
    dataset: RetrievalDataset,
    q: np.ndarray,
    docs: np.ndarray,
    k: int,
    score: Callable[[str, list[str]], np.ndarray] | None = None,
) -> list[Retrieved]:
    """Exact dense top ``k`` of each judged query (reranked by ``score`` when given)."""
    k = min(k, len(dataset.doc_ids))
    texts = dataset.doc_texts()
    retriever = Retriever(
        RetrievalConfig("dense", k, rerank_candidates=k, exact=True),
        dense=DenseIndex(docs),
        reranker=None if score is None else _ScoreFunction(score),
        passages=lambda rows: [texts[i] for i in rows],
    )
    return retriever.run_many(list(dataset.judged_queries.values()), q)


def _run(
    dataset: RetrievalDataset, found: list[Retrieved], stage: str | None = None
) -> dict[str, dict[str, float]]:
    """A trec-style run: query id -> doc id -> score, from the final ranking or a stage."""
    doc_ids = dataset.doc_ids
    out = {}
    for qid, got in zip(dataset.judged_queries, found, strict=True):
        ranked = got if stage is None else got.stages[stage]
        out[qid] = {doc_ids[i]: float(s) for i, s in zip(ranked.ids, ranked.scores, strict=True)}
    return out


def _dense_run(
    dataset: RetrievalDataset, q: np.ndarray, docs: np.ndarray, k: int
) -> dict[str, dict[str, float]]:
    return _run(dataset, _retrieve(dataset, q, docs, k))


def evaluate_bi_encoder(
    model: Any, dataset: RetrievalDataset, name: str, dims: Sequence[int] = (), k: int = 100
) -> list[RetrievalScore]:
    """Retrieval quality at the full dimension and at each of ``dims`` (smaller ones)."""
    docs = encode(model, dataset.doc_texts())
    q = encode(model, list(dataset.judged_queries.values()))
    full = docs.shape[1]
    out = []
    for d in [full, *[d for d in dims if d < full]]:
        run = _dense_run(dataset, truncate(q, d), truncate(docs, d), k)
        metrics = evaluate_run(dataset.qrels, run, KS, warn=False).mean
        out.append(RetrievalScore(name, d, metrics))
    return out


def evaluate_reranked(
    model: Any,
    score: Callable[[str, list[str]], np.ndarray],
    dataset: RetrievalDataset,
    name: str,
    candidates: int = 20,
) -> tuple[RetrievalScore, RetrievalScore]:
    """(bi-encoder alone, bi-encoder top ``candidates`` rescored by ``score(query, passages)``)."""
    docs = encode(model, dataset.doc_texts())
    q = encode(model, list(dataset.judged_queries.values()))
    found = _retrieve(dataset, q, docs, candidates, score)
    dense, reranked = _run(dataset, found, "dense"), _run(dataset, found, "reranked")
    full = docs.shape[1]
    before = RetrievalScore(name, full, evaluate_run(dataset.qrels, dense, KS, warn=False).mean)
    after = RetrievalScore(
        f"{name} + reranker", full, evaluate_run(dataset.qrels, reranked, KS, warn=False).mean
    )
    return before, after
