"""Hard-negative mining: for each (anchor, positive), a document that looks right but is not.

Candidates come from BM25 (:class:`~embedlab.stores.keyword.BM25Index`) or the bi-encoder
(:class:`~embedlab.stores.dense.DenseIndex`) over every positive of the training pairs;
``cross-encoder`` takes the bi-encoder's candidates and rescores them with a reranker.
A candidate is used only if its rank lies in ``rank_range`` (the first ranks are often
true duplicates) and its score is below the positive's by at least ``margin``; candidates
that score within the margin of the positive (or above it) are *likely false negatives*:
they are kept in the report, flagged, and never trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from embedlab.errors import InputError
from embedlab.train.pairs import Pair

Scorer = Callable[[str, list[str]], np.ndarray]


@dataclass(frozen=True)
class MinedNegative:
    """One candidate negative, with the scores that decided it."""

    anchor: str
    positive: str
    negative: str
    rank: int  # 1-based rank of the candidate among the miner's results
    positive_score: float
    negative_score: float
    method: str
    likely_false_negative: bool

    @property
    def gap(self) -> float:
        """positive score − negative score (the margin it clears)."""
        return self.positive_score - self.negative_score


def _bm25_candidates(
    anchors: list[str], docs: list[str], k: int, **_: Any
) -> tuple[np.ndarray, np.ndarray, Scorer]:
    from embedlab.stores.keyword import BM25Index

    index = BM25Index(docs)
    ids = np.full((len(anchors), k), -1, dtype=np.int64)
    scores = np.zeros((len(anchors), k), dtype=np.float32)
    for row, a in enumerate(anchors):
        hits = index.search(a, k) if a.strip() else None
        if hits is not None:
            ids[row, : len(hits.ids)] = hits.ids
            scores[row, : len(hits.ids)] = hits.scores
    doc_row = {d: i for i, d in enumerate(docs)}

    def score(query: str, passages: list[str]) -> np.ndarray:
        s = index.get_scores(query)
        return np.array([s[doc_row[p]] for p in passages], dtype=np.float32)

    return ids, scores, score


def _dense_candidates(
    anchors: list[str], docs: list[str], k: int, *, model: Any = None, **_: Any
) -> tuple[np.ndarray, np.ndarray, Scorer]:
    from embedlab.stores.dense import DenseIndex
    from embedlab.train.retrieval_eval import encode
    from embedlab.vectors.similarity import normalize

    if model is None:
        raise InputError("Dense mining needs the bi-encoder: pass model=.")
    doc_vecs = normalize(encode(model, docs))
    anchor_vecs = normalize(encode(model, anchors))
    hits = DenseIndex(doc_vecs).search(anchor_vecs, k=min(k, len(docs)), exact=True)
    doc_row = {d: i for i, d in enumerate(docs)}
    anchor_row = {a: i for i, a in enumerate(anchors)}

    def score(query: str, passages: list[str]) -> np.ndarray:
        row = anchor_row.get(query)  # the anchors were embedded above, in one batch
        qv = anchor_vecs[row] if row is not None else normalize(encode(model, [query]))[0]
        return np.asarray(doc_vecs[[doc_row[p] for p in passages]] @ qv, dtype=np.float32)

    return hits.ids, hits.scores, score


def _cross_encoder_candidates(
    anchors: list[str],
    docs: list[str],
    k: int,
    *,
    model: Any = None,
    reranker: Any = None,
    **_: Any,
) -> tuple[np.ndarray, np.ndarray, Scorer]:
    from embedlab.search.rerank import resolve_reranker, score_passages

    if reranker is None:
        raise InputError(
            "Cross-encoder mining needs a reranker: train one with 'embedlab train reranker' "
            "and pass it with --cross-encoder FOLDER."
        )
    scorer = resolve_reranker(reranker)
    ids, _dense_scores, _dense_score = _dense_candidates(anchors, docs, k, model=model)
    scores = np.zeros(ids.shape, dtype=np.float32)
    for row, a in enumerate(anchors):
        s = score_passages(scorer, a, [docs[i] for i in ids[row]])
        order = np.argsort(-s, kind="stable")  # the cross-encoder decides the rank
        ids[row], scores[row] = ids[row][order], s[order]

    def score(query: str, passages: list[str]) -> np.ndarray:
        return score_passages(scorer, query, passages)

    return ids, scores, score


#: --hard-negatives choices (``none`` mines nothing).
MINERS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray, Scorer]]] = {
    "bm25": _bm25_candidates,
    "dense": _dense_candidates,
    "cross-encoder": _cross_encoder_candidates,
}
METHODS: tuple[str, ...] = ("none", *MINERS)


def mine_hard_negatives(
    pairs: Sequence[Pair],
    method: str = "dense",
    *,
    model: Any = None,
    reranker: Any = None,
    margin: float = 0.0,
    rank_range: tuple[int, int] = (2, 30),
    per_anchor: int = 1,
    corpus: Sequence[str] = (),
) -> list[MinedNegative]:
    """Mine candidates for each pair; see the module docstring for the rules.

    :param rank_range: 1-based ranks (inclusive) a used negative may come from.
    :param corpus: more documents to mine from besides the pairs' positives (an index's).
    :return: every candidate looked at in the rank range, flagged or not, in pair order;
        :func:`with_negatives` turns the unflagged ones into training triples.
    """
    if method not in MINERS:
        raise InputError(
            f"Unknown hard-negative method {method!r}: use one of {', '.join(METHODS)}."
        )
    lo, hi = rank_range
    if not 1 <= lo <= hi:
        raise InputError(f"The rank range must be 1 <= low <= high, got {rank_range}.")
    docs = list(dict.fromkeys([*(p.positive for p in pairs), *corpus]))
    anchors = [p.anchor for p in pairs]
    ids, scores, score = MINERS[method](anchors, docs, hi, model=model, reranker=reranker)
    out: list[MinedNegative] = []
    for row, p in enumerate(pairs):
        pos_score = float(score(p.anchor, [p.positive])[0])
        used = 0
        for rank in range(lo, hi + 1):
            if rank - 1 >= ids.shape[1] or used >= per_anchor:
                break
            i = int(ids[row, rank - 1])
            if i < 0 or docs[i] == p.positive:
                continue
            neg_score = float(scores[row, rank - 1])
            flagged = neg_score > pos_score - margin
            out.append(
                MinedNegative(
                    p.anchor, p.positive, docs[i], rank, pos_score, neg_score, method, flagged
                )
            )
            used += 0 if flagged else 1
    return out


def with_negatives(pairs: Sequence[Pair], mined: Sequence[MinedNegative]) -> list[Pair]:
    """Pairs with their first unflagged mined negative as ``negative`` (else left as given)."""
    first: dict[tuple[str, str], str] = {}
    for m in mined:
        if not m.likely_false_negative:
            first.setdefault((m.anchor, m.positive), m.negative)
    return [replace(p, negative=first.get((p.anchor, p.positive), p.negative)) for p in pairs]
