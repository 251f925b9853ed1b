"""The demo corpus: short documents written for embedlab (its licence is the project's own).

51 documents in ``data/demo/demo.jsonl`` (fields ``id``, ``title``, ``text``, ``topic``,
``lang``) on cooking, space, football, programming, health, finance, music, travel,
climate, pets, a film and remote work. It holds paraphrase pairs that share no keywords
(:data:`PARAPHRASE_PAIRS`), opposite opinions on one topic (:data:`OPPOSITE_PAIRS`) and a
few texts in French, German and Spanish, so every search stage has something to show.
Its index is built by the views (:func:`embedlab.demo.ensure_demo_index`), not here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: (id, id) of documents that say the same thing in different words.
PARAPHRASE_PAIRS: tuple[tuple[str, str], ...] = (
    ("demo-21", "demo-22"),  # salt / sodium
    ("demo-25", "demo-26"),  # stocks fall after a rate rise
    ("demo-34", "demo-35"),  # delayed flight
    ("demo-43", "demo-44"),  # puppy chews shoes
)
#: (id, id) of documents with opposite opinions on the same subject.
OPPOSITE_PAIRS: tuple[tuple[str, str], ...] = (
    ("demo-47", "demo-48"),  # love / hate the film Starfall
    ("demo-49", "demo-50"),  # for / against remote work
)


def demo_path() -> Path:
    """The demo corpus file (``demo.jsonl``) inside the installed package."""
    return Path(__file__).resolve().parent / "demo" / "demo.jsonl"


def demo_documents() -> list[dict[str, Any]]:
    """The demo documents as dicts (id, title, text, topic, lang)."""
    with open(demo_path(), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


__all__ = [
    "OPPOSITE_PAIRS",
    "PARAPHRASE_PAIRS",
    "demo_documents",
    "demo_path",
]
