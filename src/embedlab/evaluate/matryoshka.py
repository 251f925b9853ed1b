"""The Matryoshka lesson: what cutting a model's vectors to ``d`` dimensions keeps and saves.

For each size ``d`` on a test collection (its corpus and its judged queries):

- **quality**: nDCG@10 of exact search on the first ``d`` components, renormalised
  (:func:`embedlab.vectors.truncate`), scored with the project's metrics (equal to
  trec_eval), and **retained** = that nDCG / the full-dims nDCG; also how many of the
  full-dims top 10 the cut still finds (overlap@10);
- **bytes per vector** and the **storage of N documents**, from the one storage function
  (:func:`embedlab.vectors.index_storage_bytes`) the cost calculator and the grid use;
- **search time**: the median of one query at a time, measured here on the collection's
  vectors through the search layer's own index (:class:`~embedlab.stores.dense.DenseIndex`):
  its Matryoshka first stage on ``d`` dims (stored as bfloat16) with its top 10 rescored,
  or exact search at full dims.

Only a model trained for truncation (MatryoshkaLoss) is expected to keep most of its quality
when cut; :func:`truncation_training` says what is known about the model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import InputError
from embedlab.evaluate.cache import embed_cached
from embedlab.evaluate.datasets import RetrievalDataset
from embedlab.evaluate.metrics import evaluate_run
from embedlab.evaluate.timing import timed_calls
from embedlab.models.base import Encoder, ModelInfo
from embedlab.stores.dense import DenseIndex
from embedlab.vectors import first_stage_precision, index_storage_bytes, truncate

#: the sizes the slider offers (those below a model's dims), besides its full size.
STEPS: tuple[int, ...] = (8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
#: the cutoff of the quality figure.
K = 10
#: queries timed per size (one at a time).
TIMED_QUERIES = 50
#: the most documents the lesson embeds (a larger collection: use the grid).
MAX_DOCUMENTS = 20_000


@dataclass
class DimsPoint:
    """One size: quality, storage and measured search time."""

    dims: int
    ndcg: float
    retained: float  # ndcg / full-dims ndcg (1.0 at full dims)
    overlap: float  # mean share of the full-dims top K found at this size
    precision: str  # how the search layer stores this first stage (float32, bfloat16)
    bytes_per_vector: int
    storage_bytes: int  # of n_documents
    search_ms: float


@dataclass
class MatryoshkaCurve:
    """Every size of one model on one collection, and what is known of its training."""

    model: str
    dataset: str
    model_dims: int
    documents: int
    queries: int
    n_documents: int
    k: int
    points: list[DimsPoint]
    trained_for_truncation: bool
    training_note: str
    embed_seconds: float
    embeddings_cached: bool
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_dims(model_dims: int) -> list[int]:
    """The slider's sizes: :data:`STEPS` below ``model_dims``, and ``model_dims`` itself."""
    return sorted({d for d in STEPS if d < model_dims} | {model_dims})


def truncation_training(info: ModelInfo, catalogue_dims: Sequence[int] = ()) -> tuple[bool, str]:
    """Whether the model was trained to be cut, and a sentence saying how that is known.

    Known from the catalogue's record (``catalogue_dims``, :attr:`ModelSpec.matryoshka`), a
    ``matryoshka`` entry in the model's info, or for a model trained here (``st:FOLDER``)
    the ``matryoshka`` dims of its run record (``train.json``).
    """
    from embedlab.models.registry import find_spec

    spec = find_spec(info.name)
    dims: list[int] = [int(d) for d in (catalogue_dims or (spec.matryoshka if spec else ()))]
    source = "the catalogue"
    if not dims and info.extra.get("matryoshka"):
        dims = [int(d) for d in str(info.extra["matryoshka"]).split(",") if d.strip()]
        source = "the model's info"
    if not dims and info.name.startswith("st:"):
        record = Path(info.name[3:]) / "train.json"
        if record.is_file():
            try:
                config = json.loads(record.read_text(encoding="utf-8")).get("config", {})
            except (OSError, ValueError):
                config = {}
            dims = [int(d) for d in config.get("matryoshka") or []]
            source = f"its training record ({record.name})"
    if dims:
        listed = ", ".join(str(d) for d in sorted(set(dims), reverse=True))
        return (
            True,
            f"{info.name} was trained for truncation (MatryoshkaLoss at {listed} dims, per {source}).",
        )
    return False, (
        f"{info.name} was not trained for truncation (no Matryoshka training recorded for it): "
        "cutting its vectors loses more than a Matryoshka model's would. Train one with "
        "'embedlab train embedder --matryoshka 256,128,64'."
    )


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def truncated_run(
    queries: np.ndarray,
    docs: np.ndarray,
    dims: int,
    qids: Sequence[str],
    doc_ids: Sequence[str],
    k: int = K,
) -> dict[str, dict[str, float]]:
    """The top ``k`` documents per query by cosine on the first ``dims`` components."""
    q, d = truncate(queries, dims), truncate(docs, dims)
    scores = q @ d.T
    top = _top_k(scores, k)
    return {qid: {doc_ids[j]: float(scores[i, j]) for j in top[i]} for i, qid in enumerate(qids)}


def matryoshka_curve(
    dataset: RetrievalDataset,
    encoder: Encoder,
    dims: Sequence[int] | None = None,
    *,
    n_documents: int = 1_000_000,
    k: int = K,
    catalogue_dims: Sequence[int] = (),
    timed_queries: int = TIMED_QUERIES,
) -> MatryoshkaCurve:
    """Quality retained, bytes, storage of ``n_documents`` and search time at each size.

    :param dims: sizes to measure (default: :func:`default_dims`); the full size is always added.
    :raises InputError: a size outside 1..model dims, N below 1, no judged query, or a
        collection larger than :data:`MAX_DOCUMENTS`.
    """
    full = encoder.info.dims
    if n_documents < 1:
        raise InputError(f"The number of documents must be at least 1, got {n_documents}.")
    sizes = sorted(set(dims or default_dims(full)) | {full})
    bad = [d for d in sizes if not 1 <= d <= full]
    if bad:
        raise InputError(f"Sizes {bad} are outside 1..{full}, the dims of {encoder.info.name}.")
    judged = dataset.judged_queries
    if not judged:
        raise InputError(f"The collection {dataset.name!r} has no judged query to measure with.")
    if len(dataset.corpus) > MAX_DOCUMENTS:
        raise InputError(
            f"{dataset.name!r} holds {len(dataset.corpus):,} documents; the lesson embeds at most "
            f"{MAX_DOCUMENTS:,}. Use the Measure page's grid (or 'embedlab eval') for it."
        )
    qids, doc_ids = list(judged), dataset.doc_ids
    start = time.perf_counter()
    d_emb = embed_cached(encoder, dataset.doc_texts(), "document")
    q_emb = embed_cached(encoder, list(judged.values()), "query")
    embed_s = time.perf_counter() - start
    docs, queries = d_emb.vectors, q_emb.vectors
    index = DenseIndex(docs, ann_threshold=len(docs) + 1)
    qrels = {q: dataset.qrels[q] for q in qids}
    runs = {d: truncated_run(queries, docs, d, qids, doc_ids, k) for d in sizes}
    ndcg = {d: evaluate_run(qrels, runs[d], (k,), warn=False).mean[f"nDCG@{k}"] for d in sizes}
    full_top = {q: set(r) for q, r in runs[full].items()}
    n_timed = min(timed_queries, len(queries))
    points = []
    for d in sizes:
        cut = None if d == full else d

        def one(i: int, cut: int | None = cut) -> object:
            return index.search(queries[i], k, dims=cut, candidates=k if cut else None)

        _, ms = timed_calls(one, n_timed, n_timed)
        overlap = float(
            np.mean([len(full_top[q] & set(runs[d][q])) / max(len(full_top[q]), 1) for q in qids])
        )
        points.append(
            DimsPoint(
                dims=d,
                ndcg=ndcg[d],
                retained=ndcg[d] / ndcg[full] if ndcg[full] > 0 else 0.0,
                overlap=overlap,
                precision=first_stage_precision(d, full),
                bytes_per_vector=index_storage_bytes(1, d, full),
                storage_bytes=index_storage_bytes(n_documents, d, full),
                search_ms=ms,
            )
        )
    trained, training_note = truncation_training(encoder.info, catalogue_dims)
    note = (
        f"nDCG@{k} of exact search on the first d dims (renormalised) over {len(doc_ids):,} "
        f"documents and {len(qids):,} judged queries; retained = nDCG@{k}(d) / nDCG@{k}(full). "
        f"Search time: median of {n_timed} queries one at a time on this machine, through the "
        f"search layer (a cut is its first stage, kept as bfloat16, with the top {k} rescored). "
        f"Storage: vectors only, for {n_documents:,} documents."
    )
    if len(doc_ids) < 1000:
        note += (
            f" With {len(doc_ids):,} documents the search times are dominated by fixed costs; "
            "the cost calculator extrapolates them to N."
        )
    return MatryoshkaCurve(
        model=encoder.info.name,
        dataset=dataset.name,
        model_dims=full,
        documents=len(doc_ids),
        queries=len(qids),
        n_documents=n_documents,
        k=k,
        points=points,
        trained_for_truncation=trained,
        training_note=training_note,
        embed_seconds=embed_s,
        embeddings_cached=d_emb.cached and q_emb.cached,
        note=note,
    )


__all__ = [
    "DimsPoint",
    "MatryoshkaCurve",
    "default_dims",
    "matryoshka_curve",
    "truncated_run",
    "truncation_training",
]
