"""``embedlab demo``: the main job of ``make run``: index the demo corpus, then serve the lab."""

from __future__ import annotations

import click

from embedlab.cli.common import model_option


@click.command("demo")
@model_option
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default 8765).")
@click.option("--no-serve", is_flag=True, help="Only make sure the demo index exists.")
def demo_command(model: str, host: str | None, port: int | None, no_serve: bool) -> None:
    """Index the bundled demo corpus (once) and start the web lab on it."""
    from embedlab.demo import DEMO_INDEX, ensure_demo_index
    from embedlab.models import load_model

    encoder = load_model(model)
    index = ensure_demo_index(encoder)
    click.echo(f"Demo index {DEMO_INDEX!r} is ready ({len(index.chunk_ids())} chunks, {model}).")
    if no_serve:
        return
    from embedlab.server import run

    run(host=host, port=port, models=[model])


COMMANDS = [demo_command]
