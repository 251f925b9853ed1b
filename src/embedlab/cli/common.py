"""Small helpers shared by CLI commands: options, JSON output, tables. No domain logic."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from embedlab.models.registry import DEFAULT_MODEL
from embedlab.settings import get

model_option = click.option(
    "--model",
    "-m",
    default=lambda: get("model") or DEFAULT_MODEL,
    show_default="minilm (or $EMBEDLAB_MODEL)",
    help="Model name, alias, or st:/ollama:/openai: id (see 'embedlab models').",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (dataclasses should be turned to dicts first)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=float))


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A plain aligned text table."""

    def fmt(v: Any) -> str:
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    cells = [[fmt(h) for h in headers]] + [[fmt(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
