"""``POST /api/chat`` in Ollama's shape: chat with a model, or with an index as ``rag:INDEX``.

Streams NDJSON by default as Ollama does (one ``{"message": {"content": ...}, "done":
false}`` line per piece, then a ``"done": true`` line with the counts and nanosecond
durations); ``"stream": false`` answers one JSON object. A ``rag:INDEX`` answer ends with
its sources as text and carries them in a ``sources`` field. Errors are Ollama's
``{"error": "..."}`` with the error's status; a stream cut off midway ends with an
``{"error": ...}`` line after what arrived. ``options.num_predict`` bounds the answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, ValidationError

from embedlab.errors import EmbedlabError
from embedlab.server import chat
from embedlab.server.streaming import ndjson

EXAMPLE = {"model": "rag:demo", "messages": [{"role": "user", "content": "What is BM25?"}]}

router = APIRouter(tags=["Ollama-compatible"])

_NS = 1_000_000_000


class ChatMessage(BaseModel):
    """One message of the conversation."""

    role: str = "user"
    content: str = ""


class ChatRequest(BaseModel):
    """Ollama's ``/api/chat`` request (tools, images and formats are not supported)."""

    model: str = Field(description="'rag:INDEX' to answer from an index, or a chat model.")
    messages: list[ChatMessage] = Field(default_factory=list)
    stream: bool = True
    options: dict[str, Any] | None = None
    keep_alive: str | int | None = None
    format: Any = None
    think: Any = None


def _error(exc: EmbedlabError | str, status: int = 400) -> JSONResponse:
    if isinstance(exc, EmbedlabError):
        return JSONResponse({"error": str(exc)}, status_code=exc.http_status)
    return JSONResponse({"error": exc}, status_code=status)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _final(info: dict[str, Any], content: str, name: str) -> dict[str, Any]:
    seconds = float(info.get("seconds") or 0.0)
    first = info.get("first_token_seconds") or 0.0
    out: dict[str, Any] = {
        "model": name,
        "created_at": _now(),
        "message": {"role": "assistant", "content": content},
        "done": True,
        "done_reason": info.get("finish_reason") or "stop",
        "total_duration": int(seconds * _NS),
        "load_duration": int(float(info.get("load_seconds") or 0.0) * _NS),
        "prompt_eval_count": int(info.get("prompt_tokens") or 0),
        "prompt_eval_duration": int(float(first) * _NS),
        "eval_count": int(info.get("completion_tokens") or 0),
        "eval_duration": int(max(0.0, seconds - float(first)) * _NS),
    }
    if "sources" in info:
        out["sources"] = info["sources"]
    return out


async def _lines(
    head: list[chat.Piece], rest: AsyncIterator[chat.Piece], name: str
) -> AsyncIterator[bytes]:
    try:
        async for piece in chat.chain(head, rest):
            if piece.done:
                if piece.info.get("error"):
                    yield ndjson({"error": piece.info["error"]})
                    return
                yield ndjson(_final(piece.info, "", name))
            elif piece.text:
                yield ndjson(
                    {"model": name, "created_at": _now(), "done": False,
                     "message": {"role": "assistant", "content": piece.text}}
                )  # fmt: skip
    except Exception as exc:  # cut off midway: what arrived was sent; say why it ended
        yield ndjson({"error": chat.error_text(exc)})


@router.post("/api/chat", response_model=None)
async def api_chat(
    request: Request, data: Annotated[dict[str, Any], Body(examples=[EXAMPLE])]
) -> JSONResponse | StreamingResponse:
    """Chat in Ollama's shape; ``model`` is ``rag:INDEX`` or a chat model (``local``...)."""
    try:
        body = ChatRequest.model_validate(data)
    except ValidationError as exc:
        return _error(f"invalid request: {chat.first_problem(exc)}")
    messages = [m.model_dump() for m in body.messages]
    max_tokens = int((body.options or {}).get("num_predict") or chat.DEFAULT_MAX_TOKENS)
    if max_tokens < 0:  # Ollama's -1: until the model stops
        max_tokens = chat.DEFAULT_MAX_TOKENS
    try:
        head, rest = await chat.answer(request, body.model, messages, max_tokens)
        if body.stream:
            lines = _lines(head, rest, body.model)
            return StreamingResponse(lines, media_type="application/x-ndjson")
        text, info = await chat.collect(head, rest)
    except EmbedlabError as exc:
        return _error(exc)
    if info.get("error"):
        return _error(str(info["error"]), 502)
    return JSONResponse(_final(info, text, body.model))
