"""Look at what a model makes of a text: its vector, the vector's stats, tokens and timing.

:func:`inspect_texts` is what ``embedlab embed`` and the playground show. The inference
time is measured around the ``embed`` call alone; the model's load time is reported apart
(``encoder.load_seconds``), so a first call does not look slow for the wrong reason.
:func:`vector_picture` draws a vector as rows of unicode blocks for a terminal.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from embedlab.models.base import Encoder, as_text_list, check_role
from embedlab.vectors.stats import VectorStats, vector_stats


@dataclass
class TextInspection:
    """One text through one model.

    :param seconds: inference time of the ``embed`` call that made this vector (the whole
        call: texts inspected together share it).
    :param load_seconds: how long loading the model took (0 when it was already loaded
        before the registry timed it).
    :param tokens: tokens the model sees (prefix and special tokens included), ``None``
        when the backend cannot count them.
    :param truncated: ``True`` when ``tokens`` is over ``max_tokens``: the model read only
        the first ``max_tokens`` tokens.
    :param unknown_words: words a word-vector model does not know (they add nothing).
    """

    text: str
    model: str
    role: str
    vector: np.ndarray
    stats: VectorStats
    tokens: int | None
    truncated: bool
    max_tokens: int | None
    seconds: float
    load_seconds: float
    unknown_words: list[str] = field(default_factory=list)

    @property
    def token_note(self) -> str:
        """A plain sentence about length, e.g. '12 tokens (limit 256)' or the truncation."""
        if self.tokens is None:
            return "token count unknown for this backend"
        limit = "no known limit" if self.max_tokens is None else f"limit {self.max_tokens}"
        if self.truncated:
            return (
                f"{self.tokens} tokens, over the {limit}: TRUNCATED, the model read only the "
                f"first {self.max_tokens}"
            )
        return f"{self.tokens} tokens ({limit}): not truncated"

    def to_dict(self, with_vector: bool = True) -> dict[str, object]:
        """A JSON-ready record (the vector as a list of floats unless ``with_vector=False``)."""
        out: dict[str, object] = {
            "text": self.text,
            "model": self.model,
            "role": self.role,
            "stats": self.stats.to_dict(),
            "tokens": self.tokens,
            "truncated": self.truncated,
            "max_tokens": self.max_tokens,
            "seconds": self.seconds,
            "load_seconds": self.load_seconds,
            "unknown_words": list(self.unknown_words),
        }
        if with_vector:
            out["vector"] = [float(x) for x in self.vector]
        return out


def truncation_notes(
    encoder: Encoder, texts: Sequence[str], role: str = "document"
) -> list[dict[str, object]]:
    """One note per text over the model's token limit (the model read only its start):
    the text's position, its token count, the limit and a sentence saying so. Empty when
    nothing was cut or the backend cannot count tokens."""
    counts = encoder.count_tokens(list(texts), role)
    limit = encoder.info.max_tokens
    if counts is None or limit is None:
        return []
    return [
        {
            "index": i,
            "tokens": int(n),
            "max_tokens": int(limit),
            "note": (
                f"Text {i + 1} is {int(n)} tokens, over {encoder.info.name}'s limit of {limit}: "
                f"TRUNCATED, the model read only the first {limit} tokens."
            ),
        }
        for i, n in enumerate(counts)
        if n > limit
    ]


def _unknown_words(encoder: Encoder, text: str) -> list[str]:
    fn = getattr(encoder, "unknown_words", None)
    if fn is None:
        return []
    return list(fn(text))


def inspect_texts(
    encoder: Encoder, texts: str | Sequence[str], role: str = "document", *, truncate: bool = True
) -> list[TextInspection]:
    """Embed ``texts`` once and describe each vector.

    :param encoder: any loaded model.
    :param texts: one text or a list; none may be empty.
    :param role: ``"document"`` or ``"query"`` (models with prefixes use them).
    :param truncate: when ``False``, a text over the model's limit is refused instead of cut.
    :return: one :class:`TextInspection` per text, in order.
    :raises EmptyInputError: a text is empty or only whitespace.
    :raises TextTooLongError: ``truncate=False`` and a text is over the limit (the message
        gives its token count and the limit).
    """
    items = as_text_list(texts)
    check_role(role)
    start = time.perf_counter()
    vectors = encoder.embed(items, role=role, truncate=truncate)
    seconds = time.perf_counter() - start
    counts = encoder.count_tokens(items, role)
    limit = encoder.info.max_tokens
    out = []
    for i, text in enumerate(items):
        tokens = None if counts is None else int(counts[i])
        out.append(
            TextInspection(
                text=text,
                model=encoder.info.name,
                role=role,
                vector=vectors[i],
                stats=vector_stats(vectors[i]),
                tokens=tokens,
                truncated=tokens is not None and limit is not None and tokens > limit,
                max_tokens=limit,
                seconds=seconds,
                load_seconds=float(encoder.load_seconds),
                unknown_words=_unknown_words(encoder, text),
            )
        )
    return out


#: blocks growing up from the axis (positive) and hanging down from it (negative).
_UP = (" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█")
_DOWN = (" ", "▔", "▔", "▀", "▀", "▀", "█", "█", "█")


@dataclass(frozen=True)
class PictureRow:
    """Two text lines for one run of dims: positives above the axis, negatives below."""

    first_dim: int
    last_dim: int
    positive: str
    negative: str


def vector_picture(vector: np.ndarray, width: int = 64) -> list[PictureRow]:
    """Draw a vector as rows of ``width`` dims, one character per dim.

    Each component is scaled by the largest magnitude in the vector; positives grow up
    from the axis with eight heights (``▁`` .. ``█``) on the upper line, negatives hang
    down from it on the lower line (``▔``, ``▀``, ``█``). A blank means near zero.
    """
    v = np.asarray(vector, dtype=np.float32).ravel()
    peak = float(np.abs(v).max()) if v.size else 0.0
    levels = np.zeros(v.shape, dtype=np.int64)
    if peak > 0:
        levels = np.rint(np.abs(v) / peak * 8).astype(np.int64)
    rows = []
    for start in range(0, v.size, width):
        seg = slice(start, min(start + width, v.size))
        pos = "".join(_UP[lv] if x > 0 else " " for x, lv in zip(v[seg], levels[seg], strict=True))
        neg = "".join(
            _DOWN[lv] if x < 0 else " " for x, lv in zip(v[seg], levels[seg], strict=True)
        )
        rows.append(PictureRow(start, seg.stop - 1, pos, neg))
    return rows
