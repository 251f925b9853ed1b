"""One-hot versus dense: the same words as one-hot vectors and as a real model's vectors.

A one-hot vector gives each word of a vocabulary its own dimension: word ``i`` is all
zeros with a single 1 at position ``i``. Two different words share no dimension, so every
pair's cosine is exactly 0: "cat" is as far from "kitten" as from "carburettor", and the
vector grows with the vocabulary. A dense model (GloVe, MiniLM) puts every word in the same
few hundred dimensions, learned so that related words point the same way.

:func:`onehot_vs_dense` builds both for a list of words and reads the similarities from a
chosen word in each.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from embedlab.errors import InputError
from embedlab.models.base import Encoder
from embedlab.vectors.similarity import cosine_matrix

#: the most words one lesson takes.
MAX_WORDS = 64

#: the page's ready list: three small families, so dense similarities have something to find.
LESSON_WORDS: tuple[str, ...] = (
    "cat", "kitten", "dog", "puppy", "king", "queen", "prince",
    "car", "truck", "bicycle", "apple", "banana",
)  # fmt: skip


@dataclass
class OneHotDense:
    """Both representations of ``words`` and the similarities from ``chosen``.

    :param onehot_positions: the position of each word's single 1 (its row in the vocabulary
        of the given words, which has ``onehot_dims`` entries).
    :param onehot_cosines: cosine of every pair of one-hot vectors (the identity matrix).
    :param dense_cosines: cosine of every pair of the model's vectors.
    :param from_chosen: for each word: its one-hot and its dense cosine with ``chosen``.
    """

    words: list[str]
    chosen: str
    model: str
    onehot_dims: int
    onehot_positions: list[int]
    onehot_cosines: list[list[float]]
    dense_dims: int
    dense_cosines: list[list[float]]
    dense_preview: list[list[float]]  # the first 8 components of each dense vector
    from_chosen: list[dict[str, Any]]
    inference_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def clean_words(words: Sequence[str]) -> list[str]:
    """Strip, drop blanks and repeats (first kept); refuse fewer than 2 or more than MAX_WORDS.

    :raises InputError: too few or too many words, or a "word" with a space in it.
    """
    out = list(dict.fromkeys(w.strip() for w in words if w and w.strip()))
    if len(out) < 2:
        raise InputError("Give at least two different words (one per line or comma-separated).")
    if len(out) > MAX_WORDS:
        raise InputError(f"{len(out)} words given; the lesson takes at most {MAX_WORDS}.")
    spaced = [w for w in out if " " in w]
    if spaced:
        raise InputError(f"{spaced[0]!r} is more than one word: give single words.")
    return out


def onehot_matrix(n: int) -> np.ndarray:
    """The one-hot vectors of a vocabulary of ``n`` words: the ``n x n`` identity."""
    return np.eye(n, dtype=np.float32)


def onehot_vs_dense(
    words: Sequence[str], encoder: Encoder, chosen: str | None = None
) -> OneHotDense:
    """One-hot vectors and ``encoder``'s vectors of ``words``, with similarities from ``chosen``.

    :param chosen: the word to read similarities from (default: the first).
    :raises InputError: see :func:`clean_words`; ``chosen`` not among the words; a word the
        model does not know (GloVe's message names it).
    """
    items = clean_words(words)
    pick = items[0] if chosen is None or not chosen.strip() else chosen.strip()
    if pick not in items:
        raise InputError(f"The chosen word {pick!r} is not in the list: pick one of the words.")
    onehot = onehot_matrix(len(items))
    start = time.perf_counter()
    dense = np.asarray(encoder.embed(items), dtype=np.float32)
    seconds = time.perf_counter() - start
    c_onehot = cosine_matrix(onehot, onehot)
    c_dense = cosine_matrix(dense, dense)
    row = items.index(pick)
    others = sorted((i for i in range(len(items)) if i != row), key=lambda i: -c_dense[row, i])
    rows: list[dict[str, Any]] = [
        {"word": items[i], "onehot": float(c_onehot[row, i]), "dense": float(c_dense[row, i])}
        for i in others
    ]
    return OneHotDense(
        words=items,
        chosen=pick,
        model=encoder.info.name,
        onehot_dims=len(items),
        onehot_positions=list(range(len(items))),
        onehot_cosines=c_onehot.astype(float).tolist(),
        dense_dims=int(dense.shape[1]),
        dense_cosines=c_dense.astype(float).tolist(),
        dense_preview=dense[:, :8].astype(float).tolist(),
        from_chosen=rows,
        inference_ms=1000 * seconds,
    )


__all__ = [
    "LESSON_WORDS",
    "MAX_WORDS",
    "OneHotDense",
    "clean_words",
    "onehot_matrix",
    "onehot_vs_dense",
]
