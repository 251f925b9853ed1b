"""Why are these two texts similar: which words carry their cosine (leave one word out).

For texts ``a`` and ``b`` under one model, each word ``w`` of ``a`` is removed in turn and
the shortened text embedded again; its weight is how much the cosine drops:

    weight(w) = cos(a, b) − cos(a without w, b)

and the same for each word of ``b`` (against the whole of ``a``). A word whose removal
lowers the cosine carries the similarity (positive weight); one whose removal raises it
pulls the texts apart (negative weight). Every shortened text of a pair is embedded in one
batch. This is a *faithful* explanation in a checkable sense: removing the top-weighted
words lowers the cosine more than removing as many random words (the test measures it on
real pairs). Words are runs of non-space characters, so punctuation stays with its word;
removing the only word of a text leaves nothing, whose cosine is taken as 0.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from embedlab.errors import EmptyInputError, InputError
from embedlab.models.base import Encoder, check_role

#: the most words a text may have (each one is another encode).
MAX_WORDS = 64
_WORD = re.compile(r"\S+")


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of each word (a run of non-space characters)."""
    return [m.span() for m in _WORD.finditer(text)]


def without(text: str, spans: Sequence[tuple[int, int]], drop: Sequence[int]) -> str:
    """``text`` with the words at indices ``drop`` removed (the other words joined by one
    space)."""
    gone = set(drop)
    return " ".join(text[s:e] for i, (s, e) in enumerate(spans) if i not in gone)


@dataclass(frozen=True)
class WordWeight:
    """One word of a text and what removing it does to the pair's cosine."""

    word: str
    start: int
    end: int
    cosine_without: float
    weight: float  # cosine − cosine_without: > 0 carries the similarity


@dataclass(frozen=True)
class PairAttribution:
    """Both texts' words with their weights, and the pair's cosine."""

    a: str
    b: str
    model: str
    cosine: float
    words_a: list[WordWeight]
    words_b: list[WordWeight]
    encodes: int
    seconds: float
    load_seconds: float = 0.0

    def top(self, side: str, k: int) -> list[int]:
        """Indices of the ``k`` heaviest words of side ``"a"`` or ``"b"`` (ties: first)."""
        words = self.words_a if side == "a" else self.words_b
        order = sorted(range(len(words)), key=lambda i: (-words[i].weight, i))
        return order[:k]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record."""
        return asdict(self)


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(norms == 0, 1.0, norms)


def _check(text: str, name: str) -> list[tuple[int, int]]:
    if not isinstance(text, str) or not text.strip():
        raise EmptyInputError(f"Text {name} is empty: type a sentence for each side.")
    spans = word_spans(text)
    if len(spans) > MAX_WORDS:
        raise InputError(
            f"Text {name} has {len(spans)} words; the explanation removes each word in turn "
            f"(one more encode per word), so it takes at most {MAX_WORDS}. Shorten the text."
        )
    return spans


def attribute_pair(encoder: Encoder, a: str, b: str, *, role: str = "document") -> PairAttribution:
    """Leave-one-word-out weights of both texts (see the module docstring).

    :raises EmptyInputError: a text is empty.
    :raises InputError: a text has more than :data:`MAX_WORDS` words.
    """
    check_role(role)
    spans_a, spans_b = _check(a, "A"), _check(b, "B")
    variants_a = [without(a, spans_a, [i]) for i in range(len(spans_a))]
    variants_b = [without(b, spans_b, [i]) for i in range(len(spans_b))]
    texts = [a, b, *variants_a, *variants_b]
    keep = [i for i, t in enumerate(texts) if t.strip()]  # a one-word text leaves nothing
    start = time.perf_counter()
    v = np.zeros((len(texts), encoder.info.dims))  # nothing left: no direction, cosine 0
    v[keep] = _unit(encoder.embed([texts[i] for i in keep], role=role))
    seconds = time.perf_counter() - start
    va, vb = v[0], v[1]
    cosine = float(va @ vb)
    cos_a = v[2 : 2 + len(spans_a)] @ vb  # a without each word, against the whole of b
    cos_b = v[2 + len(spans_a) :] @ va
    return PairAttribution(
        a=a,
        b=b,
        model=encoder.info.name,
        cosine=cosine,
        words_a=[
            WordWeight(a[s:e], s, e, float(c), cosine - float(c))
            for (s, e), c in zip(spans_a, cos_a, strict=True)
        ],
        words_b=[
            WordWeight(b[s:e], s, e, float(c), cosine - float(c))
            for (s, e), c in zip(spans_b, cos_b, strict=True)
        ],
        encodes=len(keep),
        seconds=seconds,
        load_seconds=float(encoder.load_seconds),
    )


__all__ = [
    "MAX_WORDS",
    "PairAttribution",
    "WordWeight",
    "attribute_pair",
    "without",
    "word_spans",
]
