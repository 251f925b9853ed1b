"""``embedlab serve``: start the local web lab (FastAPI + uvicorn)."""

from __future__ import annotations

import click

from embedlab import settings


@click.command("serve")
@click.option(
    "--host",
    default=lambda: settings.get("host"),
    show_default="127.0.0.1",
    help="Address to bind (loopback by default: the lab is for this machine).",
)
@click.option(
    "--port",
    type=int,
    default=lambda: int(settings.get("port")),
    show_default="8765",
    help="Port to listen on.",
)
@click.option(
    "--models",
    default="",
    metavar="A,B",
    help="Models to load at start, comma-separated; the first is the default. "
    "Others load on first use.",
)
def serve(host: str, port: int, models: str) -> None:
    """Start the web lab and its OpenAI/Ollama-compatible embedding API."""
    from embedlab.server import run

    names = [m.strip() for m in models.split(",") if m.strip()]
    click.echo(f"embedlab lab on http://{host}:{port}/  (API docs at /docs; Ctrl+C stops)")
    run(host, port, names or None)


COMMANDS: list[click.Command] = [serve]
