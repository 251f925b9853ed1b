"""Reading JSON-lines files: one JSON value per line, blank lines skipped, errors by line.

Every reader of a ``.jsonl`` file in embedlab (documents to index, evaluation sets, pairs to
train on, texts to map) goes through :func:`json_lines`, so they number lines the same way
and report a broken line the same way: ``PATH:LINE: what is wrong``. The file is opened
with :func:`embedlab.data.text.open_text`: UTF-8 (with or without a BOM) or UTF-16 with a
BOM; any other bytes give the same error, naming the line and byte offset.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from embedlab.data.text import open_text
from embedlab.errors import InputError


def json_lines(
    path: str | Path,
    error: type[Exception] = InputError,
    *,
    label: str | None = None,
    objects: bool = True,
    hint: str = "",
    on_error: Callable[[int, str], None] | None = None,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(line number, value)`` for each non-blank line (numbered from 1).

    :param error: the exception raised for a bad line (or bytes that are not text), as
        ``"{label}:{line}: not valid JSON (...)"``.
    :param label: how the file is named in messages (default: its path).
    :param objects: every value must be a JSON object; ``False`` yields any value.
    :param hint: added to the invalid-JSON message, e.g. what a line should look like.
    :param on_error: when given, a bad line is handed to it (line number, what is wrong)
        and skipped, instead of raising: the other lines are still read.
    """
    where = str(path) if label is None else label
    with open_text(path, error, label=label) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                if on_error is not None:
                    on_error(n, f"not valid JSON ({exc.msg})")
                    continue
                raise error(f"{where}:{n}: not valid JSON ({exc.msg}){hint}.") from None
            if objects and not isinstance(value, dict):
                what = f"expected a JSON object {{...}}, got {type(value).__name__}"
                if on_error is not None:
                    on_error(n, what)
                    continue
                raise error(f"{where}:{n}: {what}.")
            yield n, value
