"""``embedlab models``: the catalogue, with what is installed."""

from __future__ import annotations

import click

from embedlab.ask.registry import list_chat_models
from embedlab.cli.common import echo_json, json_option, table
from embedlab.models.registry import CATALOGUE, backends, is_installed


@click.command("models")
@json_option
def models_command(as_json: bool) -> None:
    """List the embedding and chat models embedlab can load, and whether each is installed."""
    rows = [
        {
            "name": s.name,
            "installed": is_installed(s),
            "dims": s.dims,
            "size_mb": s.size_mb,
            "kind": s.kind,
            "languages": s.languages,
            "description": s.description,
            "install": s.install,
        }
        for s in CATALOGUE
    ]
    chats = list_chat_models()
    if as_json:
        echo_json(rows + [{**c, "kind": "chat"} for c in chats])
        return
    click.echo(
        table(
            [
                (
                    r["name"],
                    "yes" if r["installed"] else "no",
                    r["dims"],
                    r["size_mb"],
                    r["description"],
                )
                for r in rows
            ],
            ["model", "installed", "dims", "MB", "description"],
        )
    )
    click.echo("\nAlso: " + ", ".join(f"{p}:<model>" for p in backends()))
    missing = [r for r in rows if not r["installed"]]
    for r in missing:
        click.echo(f"  to install {r['name']}: {r['install']}")
    click.echo("\nChat models (embedlab ask --chat NAME):")
    click.echo(
        table(
            [
                (
                    c["name"],
                    "yes" if c["installed"] else "no",
                    c["context_window"] or "-",
                    c["size_mb"] or "-",
                    c["description"],
                )
                for c in chats
            ],
            ["chat model", "installed", "window", "MB", "description"],
        )
    )


COMMANDS = [models_command]
