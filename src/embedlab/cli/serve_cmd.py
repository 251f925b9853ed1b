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
@click.option(
    "--rerankers",
    default="",
    metavar="A,B",
    help="Cross-encoder folders or ids requests may name, comma-separated (trained ones "
    "in embedlab's home/models are always allowed by name).",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="Another Host name to answer for (repeatable); the bound address and loopback "
    "names are always answered.",
)
@click.option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A web origin (https://app.example) that may call the API from a browser (CORS), "
    "repeatable; '*' allows any. None by default.",
)
@click.option(
    "--api-key",
    default=None,
    metavar="KEY",
    help="Key clients must send as 'Authorization: Bearer KEY'. Default: $EMBEDLAB_API_KEY; "
    "beyond loopback one is generated and printed when none is given.",
)
@click.option(
    "--ollama",
    default=None,
    metavar="URL",
    help="An Ollama whose chat and embedding models the lab lists and uses. Default: "
    "$OLLAMA_HOST, else http://127.0.0.1:11434.",
)
@click.option(
    "--openai",
    "openai_urls",
    multiple=True,
    metavar="URL",
    help="An OpenAI-compatible server (base URL, often ending in /v1) whose models the lab "
    "lists and uses, repeatable. Default: $OPENAI_BASE_URL if set. Key: $OPENAI_API_KEY.",
)
def serve(
    host: str,
    port: int,
    models: str,
    rerankers: str,
    allow_hosts: tuple[str, ...],
    allow_origins: tuple[str, ...],
    api_key: str | None,
    ollama: str | None,
    openai_urls: tuple[str, ...],
) -> None:
    """Start the web lab and its OpenAI/Ollama-compatible embedding API."""
    from embedlab.server import ServerConfig, run, server_config

    config = server_config(
        config=ServerConfig(
            host=host,
            port=port,
            models=tuple(_names(models)),
            rerankers=tuple(_names(rerankers)),
            allow_hosts=allow_hosts,
            allow_origins=allow_origins,
            api_key=api_key or None,
            ollama=ollama or None,
            openai=openai_urls,
        )
    )
    click.echo(f"embedlab lab on {config.url()}  (API docs at /docs; Ctrl+C stops)")
    if config.api_key:
        click.echo(f"API key: {config.api_key}  (clients send 'Authorization: Bearer KEY')")
    run(config=config)


def _names(value: str) -> list[str]:
    return [m.strip() for m in value.split(",") if m.strip()]


COMMANDS: list[click.Command] = [serve]
