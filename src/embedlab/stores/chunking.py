"""Token-aware chunking with the model's own tokenizer.

``tokens`` (the default) cuts a text into chunks of at most ``chunk_tokens`` tokens *as the
model counts them* (special tokens and the document prefix included), with ``overlap``
tokens shared between neighbours; cuts fall at a sentence end when one is in the second
half of the window, else at a word start. ``paragraph`` and ``sentence`` make one chunk per
paragraph or sentence, and split any that is still over the limit by tokens.

Every encoder that has a tokenizer exposes it through :meth:`Encoder.token_spans` (the
sentence-transformers and ONNX backends alike), so one chunker cuts every model's texts by
that model's own tokens. When the encoder has none (remote servers, word vectors), words
stand in for tokens, with a safety margin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from embedlab.errors import InputError
from embedlab.models.base import Encoder

_SENTENCE_END = re.compile(r"[.!?。！？][\"')\]»”’]*$")
_PARAGRAPH = re.compile(r"\n\s*\n")
#: the blanks after a sentence end (and up to three closing quotes or brackets, which stay
#: with their sentence: fixed-width lookbehinds, as ``re`` has no variable-width one).
_SENTENCE = re.compile(
    r"(?:(?<=[.!?。！？])|(?<=[.!?。！？][\"')\]»”’])|(?<=[.!?。！？][\"')\]»”’]{2})"
    r"|(?<=[.!?。！？][\"')\]»”’]{3}))\s+|\n+"
)
_WORD = re.compile(r"\S+")
#: words per token assumed when the model has no tokenizer (conservative).
_WORDS_PER_TOKEN = 0.6


@dataclass(frozen=True)
class ChunkSettings:
    """How texts are cut; stored with each index.

    :param by: ``"tokens"``, ``"paragraph"`` or ``"sentence"``.
    :param chunk_tokens: most tokens in a chunk (capped at the model's max_tokens).
    :param overlap: tokens shared by two neighbouring chunks (``tokens`` mode only).
    """

    by: str = "tokens"
    chunk_tokens: int = 256
    overlap: int = 32

    def validate(self, max_tokens: int | None) -> ChunkSettings:
        """Check the values and cap ``chunk_tokens`` at the model's limit."""
        if self.by not in SPLITTERS:
            raise InputError(f"Unknown chunking {self.by!r}: use one of {', '.join(SPLITTERS)}.")
        size = self.chunk_tokens if max_tokens is None else min(self.chunk_tokens, max_tokens)
        if size < 8:
            raise InputError(f"--chunk-tokens {self.chunk_tokens} is too small: use 8 or more.")
        if not 0 <= self.overlap < size // 2:
            raise InputError(
                f"--overlap {self.overlap} must be at least 0 and less than half of the chunk "
                f"size ({size} tokens)."
            )
        return ChunkSettings(self.by, size, self.overlap)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TextPiece:
    """A chunk of one record: its text and character span in that record."""

    text: str
    start: int
    end: int


class TokenSpans:
    """Token character spans of a text, from the model's tokenizer (or words as a stand-in)."""

    def __init__(self, encoder: Encoder | None) -> None:
        self._encoder = encoder
        self.exact = encoder is not None and encoder.token_spans("a b") is not None
        overhead = None
        if encoder is not None:
            try:
                counts = encoder.count_tokens([""], "document")
                overhead = counts[0] if counts else None
            except Exception:  # a backend that cannot count an empty text
                overhead = None
        #: tokens the model adds around every text (special tokens, document prefix).
        self.overhead = overhead if overhead is not None else 2

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) character offsets of each token of ``text``, specials excluded."""
        spans = self._encoder.token_spans(text) if self.exact and self._encoder else None
        if spans is None:
            return [m.span() for m in _WORD.finditer(text)]
        return spans

    def budget(self, chunk_tokens: int) -> int:
        """Content tokens (or words) that fit in one chunk of ``chunk_tokens``."""
        room = max(1, chunk_tokens - self.overhead)
        return room if self.exact else max(1, int(room * _WORDS_PER_TOKEN))


def _cut_point(text: str, spans: list[tuple[int, int]], lo: int, hi: int) -> int:
    """Best token index in (lo, hi] to end a chunk at: a sentence end, else a word start."""
    if hi >= len(spans):
        return len(spans)
    half = lo + max(1, (hi - lo) // 2)
    for j in range(hi, half, -1):  # a sentence ends just before token j
        prev_end = spans[j - 1][1]
        if spans[j][0] > prev_end and _SENTENCE_END.search(text[max(0, prev_end - 4) : prev_end]):
            return j
    for j in range(hi, lo, -1):  # a word starts at token j
        if spans[j][0] > spans[j - 1][1]:
            return j
    return hi


def _word_start(spans: list[tuple[int, int]], j: int, limit: int) -> int:
    """The first token index >= j (and < limit) that starts a word, else j."""
    for k in range(j, limit):
        if k == 0 or spans[k][0] > spans[k - 1][1]:
            return k
    return j


def split_tokens(
    text: str, spans: list[tuple[int, int]], budget: int, overlap: int
) -> Iterator[TextPiece]:
    """Cut ``text`` (with token ``spans``) into pieces of at most ``budget`` tokens."""
    n = len(spans)
    i = 0
    last_end = -1
    while i < n:
        hi = min(i + budget, n)
        j = _cut_point(text, spans, i, hi)
        start, end = spans[i][0], spans[j - 1][1]
        piece = text[start:end].strip()
        if piece and end > last_end:  # a window that ends inside the last chunk adds nothing
            yield TextPiece(piece, start, end)
            last_end = end
        if j >= n:
            break
        nxt = max(j - overlap, i + 1) if overlap else j
        i = _word_start(spans, nxt, j) if overlap else j


def _units(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """Spans of the non-blank pieces between matches of ``pattern``."""
    pos = 0
    for m in pattern.finditer(text):
        if text[pos : m.start()].strip():
            yield pos, m.start()
        pos = m.end()
    if text[pos:].strip():
        yield pos, len(text)


class Chunker:
    """Cuts record texts into :class:`TextPiece` objects for one encoder and settings."""

    def __init__(self, encoder: Encoder | None, settings: ChunkSettings) -> None:
        max_tokens = encoder.info.max_tokens if encoder is not None else None
        self.settings = settings.validate(max_tokens)
        self.tokens = TokenSpans(encoder)
        self.budget = self.tokens.budget(self.settings.chunk_tokens)
        overlap = self.settings.overlap
        self.overlap = overlap if self.tokens.exact else int(overlap * _WORDS_PER_TOKEN)
        self._split: Callable[[str], Iterator[TextPiece]] = SPLITTERS[self.settings.by].__get__(
            self
        )

    def chunks(self, text: str) -> list[TextPiece]:
        """The pieces of ``text`` (empty when it holds no words)."""
        return list(self._split(text))

    def _by_tokens(self, text: str) -> Iterator[TextPiece]:
        yield from split_tokens(text, self.tokens.spans(text), self.budget, self.overlap)

    def _by_units(self, text: str, pattern: re.Pattern[str]) -> Iterator[TextPiece]:
        for a, b in _units(text, pattern):
            unit = text[a:b]
            spans = self.tokens.spans(unit)
            if len(spans) <= self.budget:
                lead = len(unit) - len(unit.lstrip())
                piece = unit.strip()
                if piece:
                    yield TextPiece(piece, a + lead, a + lead + len(piece))
                continue
            for p in split_tokens(unit, spans, self.budget, 0):
                yield TextPiece(p.text, a + p.start, a + p.end)

    def _by_paragraph(self, text: str) -> Iterator[TextPiece]:
        yield from self._by_units(text, _PARAGRAPH)

    def _by_sentence(self, text: str) -> Iterator[TextPiece]:
        yield from self._by_units(text, _SENTENCE)


#: chunking mode -> method of :class:`Chunker`.
SPLITTERS: dict[str, Any] = {
    "tokens": Chunker._by_tokens,
    "paragraph": Chunker._by_paragraph,
    "sentence": Chunker._by_sentence,
}

__all__ = ["SPLITTERS", "ChunkSettings", "Chunker", "TextPiece", "TokenSpans", "split_tokens"]
