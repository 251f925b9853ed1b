"""The hard-negative explorer: what ``embedlab train mine`` would pick for one query.

For a query, its positive (a text you give, or the index's top document for the query) and
the documents of an index, :func:`explore_negatives` runs the same miner as ``train mine``
and ``train embedder --hard-negatives`` (:func:`embedlab.train.mining.mine_hard_negatives`,
BM25 or the bi-encoder), and returns every candidate in the rank range with both scores:
the positive's and the candidate's. A candidate within ``margin`` of the positive's score,
or above it, is a *likely false negative* (probably relevant too): flagged, never trained on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from embedlab.errors import EmptyInputError, InputError
from embedlab.models.base import Encoder
from embedlab.train.mining import METHODS, MINERS, mine_hard_negatives
from embedlab.train.pairs import Pair

#: the most documents mined from on a page (the CLI has no such limit).
MAX_DOCS = 2000
#: methods the page offers (the cross-encoder needs a trained reranker: use the CLI).
PAGE_METHODS: tuple[str, ...] = ("dense", "bm25")


class EncoderModel:
    """An :class:`~embedlab.models.base.Encoder` as the ``model.encode`` the miner calls
    (texts embedded as documents, as the training pairs are), each text embedded once."""

    def __init__(self, encoder: Encoder, known: dict[str, np.ndarray] | None = None) -> None:
        self.encoder = encoder
        self._seen: dict[str, np.ndarray] = dict(known or {})

    def encode(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if t not in self._seen))
        if new:
            self._seen.update(zip(new, self.encoder.embed(new, role="document"), strict=True))
        return np.stack([self._seen[t] for t in texts])


@dataclass(frozen=True)
class Candidate:
    """One mined candidate for the query."""

    rank: int
    text: str
    score: float
    gap: float  # positive score − this score
    likely_false_negative: bool


@dataclass(frozen=True)
class NegativesView:
    """The query, its positive and every candidate in the rank range."""

    query: str
    positive: str
    positive_chosen: bool  # True: the positive is the miner's own top document
    positive_score: float
    method: str
    margin: float
    rank_range: tuple[int, int]
    documents: int
    candidates: list[Candidate]
    seconds: float

    @property
    def flagged(self) -> int:
        return sum(c.likely_false_negative for c in self.candidates)

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["flagged"] = self.flagged
        return out


def explore_negatives(
    encoder: Encoder | None,
    documents: Sequence[str],
    query: str,
    positive: str | None = None,
    *,
    method: str = "dense",
    margin: float = 0.1,
    rank_range: tuple[int, int] = (1, 10),
    vectors: np.ndarray | None = None,
) -> NegativesView:
    """Mine hard negatives for ``query`` among ``documents`` (see the module docstring).

    :param encoder: the bi-encoder (``dense``; unused by ``bm25``).
    :param vectors: the documents' vectors by that encoder, row for row (an index's stored
        vectors), so only the query and a typed positive are embedded.
    :param positive: the query's relevant text; ``None`` or blank: the miner's top document.
    :raises EmptyInputError: no query, or no documents.
    :raises InputError: an unknown method, a bad rank range or margin, too many documents.
    """
    if not query.strip():
        raise EmptyInputError("The query is empty: type what you would search for.")
    if method not in PAGE_METHODS:
        raise InputError(
            f"Method {method!r} is not offered here: use one of {', '.join(PAGE_METHODS)} "
            f"('embedlab train mine' also takes {', '.join(m for m in METHODS if m not in PAGE_METHODS)})."
        )
    lo, hi = rank_range
    if not 1 <= lo <= hi <= 100:
        raise InputError(f"The rank range must be 1 <= low <= high <= 100, got {lo}..{hi}.")
    if not 0 <= margin <= 10:
        raise InputError(f"The margin must be between 0 and 10, got {margin}.")
    docs = list(dict.fromkeys(d for d in documents if d.strip()))
    if not docs:
        raise EmptyInputError("The index holds no text to mine from.")
    if len(docs) > MAX_DOCS:
        raise InputError(
            f"The index holds {len(docs)} texts; the page mines at most {MAX_DOCS}. Use "
            "'embedlab train mine --from-index NAME' for a larger one."
        )
    if vectors is not None and len(vectors) != len(documents):
        raise InputError(f"{len(vectors)} vectors for {len(documents)} documents.")
    known = (
        {d: np.asarray(v, dtype=np.float32) for d, v in zip(documents, vectors, strict=True)}
        if vectors is not None
        else None
    )
    model = EncoderModel(encoder, known) if encoder is not None else None
    if method == "dense" and model is None:
        raise InputError("Dense mining needs the index's model.")
    start = time.perf_counter()
    chosen = positive is None or not positive.strip()
    if chosen:  # the top document for the query, by the same miner
        ids, _, _ = MINERS[method]([query], docs, 1, model=model)
        if ids[0, 0] < 0:
            raise InputError(f"{method} finds no document for {query!r}: type its positive.")
        positive = docs[int(ids[0, 0])]
    assert positive is not None
    mined = mine_hard_negatives(
        [Pair(query, positive)],
        method,
        model=model,
        margin=margin,
        rank_range=(lo, hi),
        per_anchor=hi,
        corpus=docs,
    )
    pos_score = (
        mined[0].positive_score
        if mined
        else float(MINERS[method]([query], [positive], 1, model=model)[2](query, [positive])[0])
    )
    return NegativesView(
        query=query,
        positive=positive,
        positive_chosen=chosen,
        positive_score=pos_score,
        method=method,
        margin=margin,
        rank_range=(lo, hi),
        documents=len(docs),
        candidates=[
            Candidate(m.rank, m.negative, m.negative_score, m.gap, m.likely_false_negative)
            for m in mined
        ],
        seconds=time.perf_counter() - start,
    )


__all__ = ["MAX_DOCS", "PAGE_METHODS", "Candidate", "NegativesView", "explore_negatives"]
