"""Before/after measurements for trained models, with the shared metrics (``evaluate_run``).

- :func:`evaluate_bi_encoder`: dense retrieval on a data set, at the full dimension and at
  each Matryoshka cut (first ``d`` components, renormalised), recall@10 and nDCG@10.
- :func:`evaluate_reranked`: the bi-encoder's top candidates rescored by a cross-encoder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedlab.evaluate.datasets import RetrievalDataset
from embedlab.evaluate.metrics import evaluate_run
from embedlab.search.dense import DenseIndex
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


def _dense_run(
    dataset: RetrievalDataset, q: np.ndarray, docs: np.ndarray, k: int
) -> dict[str, dict[str, float]]:
    qids = list(dataset.judged_queries)
    doc_ids = dataset.doc_ids
    hits = DenseIndex(docs).search(q, k=min(k, len(doc_ids)), exact=True)
    return {
        qid: {
            doc_ids[int(i)]: float(s) for i, s in zip(hits.ids[row], hits.scores[row], strict=True)
        }
        for row, qid in enumerate(qids)
    }


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
    queries = dataset.judged_queries
    q = encode(model, list(queries.values()))
    dense = _dense_run(dataset, q, docs, candidates)
    texts = dict(zip(dataset.doc_ids, dataset.doc_texts(), strict=True))
    reranked: dict[str, dict[str, float]] = {}
    for qid, hits in dense.items():
        ids = list(hits)
        s = score(queries[qid], [texts[i] for i in ids])
        reranked[qid] = {i: float(v) for i, v in zip(ids, s, strict=True)}
    full = docs.shape[1]
    before = RetrievalScore(name, full, evaluate_run(dataset.qrels, dense, KS, warn=False).mean)
    after = RetrievalScore(
        f"{name} + reranker", full, evaluate_run(dataset.qrels, reranked, KS, warn=False).mean
    )
    return before, after
