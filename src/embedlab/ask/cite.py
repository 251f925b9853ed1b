"""Map an answer's ``[n]`` markers to their sources, and flag the sentences nothing supports.

A sentence is flagged when it cites nothing, cites a number that is no source, or is not
similar to any source it cites: the cosine of the sentence and the cited chunk (both
embedded with the index's model) is under that model's "unrelated" level, the 95th
percentile of its background of unrelated pairs (:mod:`embedlab.explore.calibration`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedlab.ask.prompt import ContextItem
from embedlab.models.base import Encoder
from embedlab.vectors.similarity import normalize

#: ``[1]``, ``[1, 2]``, ``[1][3]``, ``[ 2 ]``.
MARKER = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LEADING = re.compile(r"^(?:\[\s*\d+(?:\s*,\s*\d+)*\s*\]\s*[.,;:]?\s*)+")
#: the background percentile a supported sentence must beat.
UNRELATED_PERCENTILE = 95.0


@dataclass(frozen=True)
class Citation:
    """One numbered source: the chunk behind ``[number]``."""

    number: int
    chunk_id: int
    source: str
    title: str
    position: dict[str, int]
    text: str

    @classmethod
    def of(cls, item: ContextItem) -> Citation:
        c = item.chunk
        return cls(item.number or 0, c.id, c.source, c.title, dict(c.position), c.text)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return dict(self.__dict__)


@dataclass
class Sentence:
    """One sentence of the answer, the sources it cites, and whether it is flagged.

    :param similarity: cosine of the sentence to each cited source that exists.
    """

    text: str
    citations: list[int]
    flagged: bool = False
    reason: str | None = None
    similarity: dict[int, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {
            "text": self.text,
            "citations": self.citations,
            "flagged": self.flagged,
            "reason": self.reason,
            "similarity": {str(k): v for k, v in self.similarity.items()},
        }


def cited_numbers(text: str) -> list[int]:
    """Every number cited in ``text``, in order of first appearance."""
    out: list[int] = []
    for m in MARKER.finditer(text):
        for part in m.group(1).split(","):
            n = int(part)
            if n not in out:
                out.append(n)
    return out


def split_sentences(answer: str) -> list[Sentence]:
    """The answer's sentences with their citations.

    Markers that open a sentence on the same line as the one before belong to it when it
    cites nothing (``"... a day. [1] Next ..."``: models often cite after the full stop);
    a marker opening a line opens its own sentence (``"[2] Rovers ..."``, a list item).
    """
    out: list[Sentence] = []
    for line in answer.splitlines():
        for i, raw in enumerate(_SENTENCE_END.split(line)):
            text = raw.strip()
            lead = _LEADING.match(text)
            if lead and i > 0 and out and not out[-1].citations:
                out[-1].text += " " + lead.group(0).strip()
                out[-1].citations += cited_numbers(lead.group(0))
                text = text[lead.end() :].strip()
            if text:
                out.append(Sentence(text, cited_numbers(text)))
    return out


def check_sentences(
    answer: str, sources: Sequence[ContextItem], encoder: Encoder, unrelated_level: float
) -> list[Sentence]:
    """Split ``answer`` into sentences and flag the unsupported ones (see module doc)."""
    sentences = split_sentences(answer)
    by_number = {s.number: s for s in sources if s.number is not None}
    to_embed: list[Sentence] = []
    for s in sentences:
        if not MARKER.sub("", s.text).strip(" .,;:!?"):
            continue
        if not s.citations:
            s.flagged, s.reason = True, "cites no source"
            continue
        missing = [n for n in s.citations if n not in by_number]
        if missing:
            s.flagged = True
            s.reason = "cites " + ", ".join(f"[{n}]" for n in missing) + ", which is no source"
        if any(n in by_number for n in s.citations):
            to_embed.append(s)
    if not to_embed:
        return sentences
    wanted = sorted({n for s in to_embed for n in s.citations if n in by_number})
    texts = [MARKER.sub("", s.text).strip() for s in to_embed]
    sv = encoder.embed(texts, role="document")
    cv = encoder.embed([by_number[n].chunk.text for n in wanted], role="document")
    # copies: an encoder may hand out arrays it keeps (a cache)
    sims = normalize(sv) @ normalize(cv).T
    col = {n: j for j, n in enumerate(wanted)}
    for i, s in enumerate(to_embed):
        s.similarity = {n: float(sims[i, col[n]]) for n in s.citations if n in col}
        best = max(s.similarity.values())
        if best < unrelated_level and not s.flagged:
            s.flagged = True
            s.reason = (
                f"not supported: similarity {best:.2f} to the cited source is under the "
                f"model's unrelated level {unrelated_level:.2f}"
            )
    return sentences


def unrelated_level(encoder: Encoder) -> float:
    """The model's "unrelated" similarity: the 95th percentile of its unrelated pairs."""
    from embedlab.explore.calibration import calibration_for

    scores = calibration_for(encoder).scores
    return float(np.percentile(scores, UNRELATED_PERCENTILE))


__all__ = [
    "MARKER",
    "UNRELATED_PERCENTILE",
    "Citation",
    "Sentence",
    "check_sentences",
    "cited_numbers",
    "split_sentences",
    "unrelated_level",
]
