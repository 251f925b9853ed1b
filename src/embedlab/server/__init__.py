"""The local web lab: a FastAPI app over the layers, with OpenAI- and Ollama-shaped APIs.

``create_app(models)`` builds the app (see :mod:`embedlab.server.app`); :func:`run` serves it
with uvicorn. The server binds 127.0.0.1 unless told otherwise and never loads remote code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from embedlab import settings
from embedlab.server.config import Limits, ServerConfig

__all__ = ["Limits", "ServerConfig", "run", "server_config"]


def run(
    host: str | None = None,
    port: int | None = None,
    models: Sequence[str] | None = None,
    config: ServerConfig | None = None,
) -> None:
    """Serve the lab with uvicorn until interrupted (blocks).

    :param host: address to bind; defaults to ``config.host``, else the ``host`` setting
        (127.0.0.1).
    :param port: port to listen on; defaults to the ``port`` setting (8765).
    :param models: models to load at start, the first one being the default; others load
        on first use. Defaults to ``config.models``, else the ``model`` setting.
    :param config: hosts, origins, API key and limits (see :class:`ServerConfig`); a
        server bound beyond loopback without a key gets a generated one.
    """
    import uvicorn

    from embedlab.server.app import create_app
    from embedlab.server.models import configure_threads

    config = server_config(host, port, models, config)
    app = create_app(list(config.models) or None, config=config)  # refuses unknown models first
    configure_threads()
    uvicorn.run(app, host=config.host, port=config.port, log_level="info")


def server_config(
    host: str | None = None,
    port: int | None = None,
    models: Sequence[str] | None = None,
    config: ServerConfig | None = None,
) -> ServerConfig:
    """``config`` with the given host, port and models filled in, and its API key chosen
    (``--api-key``, else ``EMBEDLAB_API_KEY``, else a generated one beyond loopback)."""
    base = config or ServerConfig(host=settings.get("host"), port=int(settings.get("port")))
    return replace(
        base,
        host=host or base.host,
        port=int(port or base.port),
        models=tuple(models) if models else base.models,
    ).with_key()
