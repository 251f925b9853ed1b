"""Reciprocal rank fusion (Cormack, Clarke and Buettcher, "Reciprocal Rank Fusion
outperforms Condorcet and individual Rank Learning Methods", SIGIR 2009).

Each ranking gives a document ``w / (k + rank)`` (rank counted from 1); a document's fused
score is the sum over the rankings that hold it. ``k = 60`` is the paper's constant: it damps
the weight of the very top ranks so that one ranker cannot decide alone. Only ranks are
used, so BM25 scores and cosines need no normalisation to be fused.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

from embedlab.errors import InputError

RRF_K = 60

T = TypeVar("T", bound=Hashable)


def rrf(
    rankings: Sequence[Sequence[T]],
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[T, float]]:
    """Fuse ranked lists of ids (best first) into one list of ``(id, score)``, best first.

    :param rankings: each a sequence of ids, best first; an id appears once per ranking.
    :param k: the RRF constant (60 in the paper).
    :param weights: one weight per ranking (default 1 each).
    :return: every id that appears in any ranking; ties keep the order of first appearance
        (ranking by ranking, rank by rank), so the result is deterministic.
    """
    if k < 0:
        raise InputError(f"The RRF constant k must be >= 0, got {k}.")
    w = [1.0] * len(rankings) if weights is None else list(weights)
    if len(w) != len(rankings):
        raise InputError(f"{len(w)} weights given for {len(rankings)} rankings: give one each.")
    scores: dict[T, float] = {}
    for ranking, weight in zip(rankings, w, strict=True):
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + weight / (k + rank)
    first_seen = {doc: i for i, doc in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], first_seen[item[0]]))
