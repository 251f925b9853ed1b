"""Pairs typed as text, one ``text | translation`` a line: what the Languages page sends."""

from __future__ import annotations

from embedlab.errors import EmptyInputError, InputError

SEPARATOR = "|"


def parse_pairs(text: str) -> list[list[str]]:
    """``[text, translation]`` pairs from ``text``, one pair a line split on ``|``; blank
    lines are skipped.

    :raises EmptyInputError: no line holds a pair.
    :raises InputError: a line has no ``|``, more than one, or an empty side (the message
        names the line, so the user's own input is never replaced by other pairs).
    """
    pairs: list[list[str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(SEPARATOR)]
        if len(parts) != 2 or not all(parts):
            why = (
                "has no '|'"
                if len(parts) == 1
                else f"has {len(parts) - 1} '|'"
                if len(parts) > 2
                else "has an empty side"
            )
            raise InputError(
                f"Line {number} ({line.strip()[:60]!r}) {why}: write one pair a line as "
                "'text | translation'."
            )
        pairs.append(parts)
    if not pairs:
        raise EmptyInputError("No pairs given: write one pair a line as 'text | translation'.")
    return pairs


__all__ = ["parse_pairs"]
