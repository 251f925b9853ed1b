"""The local web lab: a FastAPI app over the layers, with OpenAI- and Ollama-shaped APIs.

``create_app(models)`` builds the app (see :mod:`embedlab.server.app`); :func:`run` serves it
with uvicorn. The server binds 127.0.0.1 unless told otherwise and never loads remote code.
"""

from __future__ import annotations

from collections.abc import Sequence

from embedlab import settings

__all__ = ["run"]


def run(
    host: str | None = None, port: int | None = None, models: Sequence[str] | None = None
) -> None:
    """Serve the lab with uvicorn until interrupted (blocks).

    :param host: address to bind; defaults to the ``host`` setting (127.0.0.1).
    :param port: port to listen on; defaults to the ``port`` setting (8765).
    :param models: models to load at start, the first one being the default; others load
        on first use. Defaults to the ``model`` setting.
    """
    import uvicorn

    from embedlab.server.app import create_app
    from embedlab.server.models import configure_threads

    app = create_app(list(models) if models else None)  # refuses unknown models first
    configure_threads()
    uvicorn.run(
        app,
        host=host or settings.get("host"),
        port=int(port or settings.get("port")),
        log_level="info",
    )
