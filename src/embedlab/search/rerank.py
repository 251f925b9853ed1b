"""Rerank the top candidates of a first stage with a cross-encoder.

A cross-encoder reads the query and a passage together and returns one relevance score; it
is far slower than a dot product, so only the top ``candidates`` (default 50) of the first
stage are rescored. Accepts an :class:`embedlab.models.Reranker`, a sentence-transformers
``CrossEncoder``, or a name or folder for :func:`embedlab.models.rerankers.load_reranker`.

A residual reranker (its score adds a bi-encoder's cosine) given the ``index`` and the
candidates' ``ids`` reads their stored vectors (:meth:`Index.vectors_of
<embedlab.stores.base.Index.vectors_of>`) instead of embedding the candidates again, when
the index was made with that same bi-encoder (same fingerprint); the scores are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedlab.errors import InputError

RERANK_CANDIDATES = 50


@dataclass(frozen=True)
class Reranked:
    """Positions into the candidate list, best first, with the reranker's scores."""

    order: np.ndarray
    scores: np.ndarray
    name: str


def resolve_reranker(reranker: Any) -> Any:
    """A scorer object from a name, a folder, a Reranker or a CrossEncoder."""
    if isinstance(reranker, str):
        from embedlab.models.rerankers import load_reranker

        return load_reranker(reranker)
    if hasattr(reranker, "score") or hasattr(reranker, "predict"):
        return reranker
    raise InputError(
        f"Cannot rerank with a {type(reranker).__name__}: pass a model name or folder, a "
        "Reranker, or a sentence-transformers CrossEncoder."
    )


def reranker_name(reranker: Any) -> str:
    """A short label for a reranker object."""
    name = getattr(reranker, "name", None)
    if isinstance(name, str) and name:
        return name
    config = getattr(getattr(reranker, "model", None), "name_or_path", None)
    return str(config) if config else type(reranker).__name__


def stored_vectors(reranker: Any, index: Any, ids: Sequence[int] | None) -> np.ndarray | None:
    """The stored vectors of candidates ``ids`` in ``index``, when ``reranker`` adds the
    cosine of the bi-encoder that made them (same fingerprint); else ``None`` (the
    reranker embeds what it needs)."""
    fingerprint = getattr(reranker, "prior_fingerprint", None)
    if not fingerprint or ids is None or index is None or not hasattr(index, "vectors_of"):
        return None
    if getattr(index, "fingerprint", None) != fingerprint:
        return None
    return np.asarray(index.vectors_of(list(ids)), dtype=np.float32)


def score_passages(
    reranker: Any, query: str, passages: Sequence[str], vectors: np.ndarray | None = None
) -> np.ndarray:
    """Relevance of each passage to ``query`` (float32, higher is better); ``vectors``: the
    passages' stored vectors, for a residual reranker (see :func:`stored_vectors`)."""
    if not passages:
        return np.empty(0, dtype=np.float32)
    if hasattr(reranker, "score") and not hasattr(reranker, "predict"):
        if vectors is not None:
            return np.asarray(reranker.score(query, list(passages), vectors=vectors), np.float32)
        return np.asarray(reranker.score(query, list(passages)), dtype=np.float32)
    pairs = [(query, p) for p in passages]
    out = reranker.predict(pairs, show_progress_bar=False, convert_to_numpy=True)
    return np.asarray(out, dtype=np.float32).reshape(len(passages), -1)[:, 0]


def rerank(
    reranker: Any,
    query: str,
    passages: Sequence[str],
    *,
    index: Any = None,
    ids: Sequence[int] | None = None,
) -> Reranked:
    """Score ``passages`` with ``reranker`` and order them, best first (ties: earlier first).

    :param index: the index the passages come from, and ``ids`` their chunk ids: a
        residual reranker reads their stored vectors instead of embedding them again.
    """
    scorer = resolve_reranker(reranker)
    scores = score_passages(scorer, query, passages, stored_vectors(scorer, index, ids))
    order = np.lexsort((np.arange(len(scores)), -scores))
    return Reranked(order=order.astype(np.int64), scores=scores[order], name=reranker_name(scorer))
