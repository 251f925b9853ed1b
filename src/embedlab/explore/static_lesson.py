"""What a static model gives up: pairs where it and its teacher disagree most.

A static model (model2vec) embeds a text as the mean of one table row per token: no
attention, so no word order ("the dog bit the man" = "the man bit the dog") and no
context ("bank" is one row, by a river or with money in it). Its teacher, a transformer,
reads every token in the light of the others. :func:`static_lesson` embeds each pair with
both and sorts the pairs by how far the two models' cosines differ.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from embedlab.errors import InputError
from embedlab.models.base import Encoder
from embedlab.vectors.similarity import cosine_matrix

#: the most pairs one lesson embeds.
MAX_PAIRS = 64


@dataclass(frozen=True)
class LessonPair:
    """Two texts and what they show (word order, context, negation, paraphrase...)."""

    a: str
    b: str
    shows: str = ""


LESSON_PAIRS: tuple[LessonPair, ...] = (
    LessonPair("The dog bit the man", "The man bit the dog", "word order"),
    LessonPair("He is not happy, he is sad", "He is not sad, he is happy", "word order"),
    LessonPair("I sat on the river bank", "I deposited cash at the bank", "context: bank"),
    LessonPair("A bat flew out of the cave", "He swung the baseball bat", "context: bat"),
    LessonPair("She caught a bass in the lake", "She plays the bass guitar", "context: bass"),
    LessonPair("The movie was good", "The movie was not good", "negation"),
    LessonPair("The food was great", "The meal was delicious", "paraphrase"),
    LessonPair("Stock markets fell sharply", "Shares dropped steeply", "paraphrase"),
    LessonPair("The cat sat on the mat", "Quarterly revenue rose", "unrelated"),
)


@dataclass
class PairDisagreement:
    """One pair's cosine in each model; ``gap`` = static minus teacher."""

    a: str
    b: str
    shows: str
    static: float
    teacher: float
    tokens_a: list[str] = field(default_factory=list)
    tokens_b: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float:
        return self.static - self.teacher

    @property
    def same_tokens(self) -> bool:
        """Both texts are the same bag of static tokens: the static model cannot tell them apart."""
        return sorted(self.tokens_a) == sorted(self.tokens_b)


@dataclass
class StaticLesson:
    """The pairs sorted by disagreement (largest ``|gap|`` first) and what each model cost."""

    static_model: str
    teacher_model: str
    pairs: list[PairDisagreement]
    static_ms: float
    teacher_ms: float
    texts: int

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for d, p in zip(out["pairs"], self.pairs, strict=True):
            d["gap"] = p.gap
            d["same_tokens"] = p.same_tokens
        return out


def _tokens(enc: Encoder, text: str) -> list[str]:
    fn = getattr(enc, "tokens", None)
    return list(fn(text)) if callable(fn) else []


def static_lesson(
    pairs: Sequence[LessonPair | Sequence[str]],
    static: Encoder,
    teacher: Encoder,
) -> StaticLesson:
    """Embed every pair with both models; sort the pairs by ``|static - teacher|`` cosine.

    Each model embeds all the texts in one call (timed apart); cosines are taken within a
    model only, never across the two spaces.

    :param pairs: :class:`LessonPair` or ``(a, b)`` / ``(a, b, shows)`` sequences.
    :raises InputError: no pairs, too many, or a pair without two texts.
    """
    items: list[LessonPair] = []
    for i, p in enumerate(pairs):
        if isinstance(p, LessonPair):
            items.append(p)
            continue
        if isinstance(p, str) or len(p) not in (2, 3):
            raise InputError(f"Pair #{i} is not two texts: give [text a, text b].")
        items.append(LessonPair(str(p[0]), str(p[1]), str(p[2]) if len(p) == 3 else ""))
    if not items:
        raise InputError("No pairs given: give at least one pair of texts.")
    if len(items) > MAX_PAIRS:
        raise InputError(f"{len(items)} pairs given; one lesson takes at most {MAX_PAIRS}.")
    texts = list(dict.fromkeys(t for p in items for t in (p.a, p.b)))
    row = {t: i for i, t in enumerate(texts)}
    start = time.perf_counter()
    vs = static.embed(texts)
    static_s = time.perf_counter() - start
    start = time.perf_counter()
    vt = teacher.embed(texts)
    teacher_s = time.perf_counter() - start
    cs, ct = cosine_matrix(vs, vs), cosine_matrix(vt, vt)
    out = [
        PairDisagreement(
            a=p.a,
            b=p.b,
            shows=p.shows,
            static=float(cs[row[p.a], row[p.b]]),
            teacher=float(ct[row[p.a], row[p.b]]),
            tokens_a=_tokens(static, p.a),
            tokens_b=_tokens(static, p.b),
        )
        for p in items
    ]
    order = np.argsort([-abs(p.gap) for p in out], kind="stable")
    return StaticLesson(
        static_model=static.info.name,
        teacher_model=teacher.info.name,
        pairs=[out[i] for i in order],
        static_ms=1000 * static_s,
        teacher_ms=1000 * teacher_s,
        texts=len(texts),
    )
