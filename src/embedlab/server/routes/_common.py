"""Helpers shared by the embedding routes: input checks, token counts, durations.

Not a route module (no ``router``): the leading underscore keeps it out of ROUTER_MODULES.
"""

from __future__ import annotations

from typing import Any

from embedlab.errors import InputError
from embedlab.server.models import EmbedOutcome


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


def strip_tag(name: str | None) -> str | None:
    """Drop an Ollama-style ``:latest`` tag (``minilm:latest`` -> ``minilm``)."""
    if name and name.endswith(":latest"):
        return name[: -len(":latest")]
    return name


def usage_tokens(out: EmbedOutcome, texts: list[str]) -> int:
    """Tokens of a request with the model's tokenizer, or words when it has none."""
    return out.token_total() if out.tokens is not None else sum(len(t.split()) for t in texts)
