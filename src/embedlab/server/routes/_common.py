"""Helpers shared by the embedding routes: input checks, token counts, durations.

Not a route module (no ``router``): the leading underscore keeps it out of ROUTER_MODULES.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from embedlab.errors import InputError
from embedlab.models import Encoder


def text_list(value: Any, field: str = "input") -> list[str]:
    """A request's ``input`` as a list of strings; token arrays are refused clearly.

    :raises InputError: for token-id arrays or other non-string items.
    """
    items = [value] if isinstance(value, str) else list(value)
    for i, item in enumerate(items):
        if isinstance(item, int | list):
            raise InputError(
                f"{field}[{i}] is a token array; this server embeds text only. "
                "Send the text itself (a string or a list of strings)."
            )
        if not isinstance(item, str):
            raise InputError(f"{field}[{i}] is a {type(item).__name__}; send strings.")
    return items


def token_counts(encoder: Encoder, texts: Sequence[str], role: str = "document") -> list[int]:
    """Tokens per text with the model's own tokenizer, or words when it has none."""
    counts = encoder.count_tokens(texts, role)
    if counts is None:
        return [len(t.split()) for t in texts]
    return list(counts)


def strip_tag(name: str | None) -> str | None:
    """Drop an Ollama-style ``:latest`` tag (``minilm:latest`` -> ``minilm``)."""
    if name and name.endswith(":latest"):
        return name[: -len(":latest")]
    return name
