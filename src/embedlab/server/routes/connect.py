"""``GET /lab/connect``: the model servers the operator configured, up or down.

An Ollama (``embedlab serve --ollama URL``, else ``OLLAMA_HOST``, else its default address
on this machine) and the OpenAI-compatible servers named with ``--openai URL``; each is
probed at once, in worker threads, with a short timeout. A server that is down is listed
with its URL and what went wrong; the others are listed with their chat and embedding
models. Requests never name a URL: only these servers are used.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from embedlab.server import chat

router = APIRouter(prefix="/lab", tags=["lab"])


@router.get("/connect")
async def connect(request: Request) -> dict[str, Any]:
    """Each configured server: protocol, URL, up, error, and its models (chat/embedding)."""
    listings = await chat.list_servers(request)
    return {"servers": [s.to_dict() for s in listings]}
