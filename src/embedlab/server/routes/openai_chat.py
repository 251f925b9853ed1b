"""``POST /v1/chat/completions`` in OpenAI's shape: chat with a model, or with an index as
``rag:INDEX``.

One ``chat.completion`` object by default; ``"stream": true`` sends server-sent events of
``chat.completion.chunk`` objects and ``data: [DONE]`` (with a usage chunk first when
``stream_options.include_usage``). A ``rag:INDEX`` answer ends with its sources as text and
carries them in a ``sources`` field (on the completion, or on the last chunk). Errors are
OpenAI's ``{"error": {"message", "type", "param", "code"}}`` with the error's status; a
stream cut off midway ends with such an error event after what arrived.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, ValidationError

from embedlab.errors import EmbedlabError
from embedlab.server import chat
from embedlab.server.streaming import sse

EXAMPLE = {"model": "rag:demo", "messages": [{"role": "user", "content": "What is BM25?"}]}

router = APIRouter(tags=["OpenAI-compatible"])

#: OpenAI's ``code`` for the errors a client may branch on.
_CODES = {404: "model_not_found", 413: "context_length_exceeded", 503: "server_busy"}


class ChatMessage(BaseModel):
    """One message; ``content`` a string or a list of ``{"type": "text", "text": ...}``."""

    role: str = "user"
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text (text parts joined; other parts ignored)."""
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat-completions request (tools, n > 1 and logprobs are not supported)."""

    model: str = Field(description="'rag:INDEX' to answer from an index, or a chat model.")
    messages: list[ChatMessage] = Field(default_factory=list)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stream_options: dict[str, Any] | None = None
    temperature: float | None = None
    user: str | None = None


def _error(exc: EmbedlabError | str, status: int = 400) -> JSONResponse:
    if isinstance(exc, EmbedlabError):
        status, kind, message = exc.http_status, type(exc).__name__, str(exc)
    else:
        kind, message = "invalid_request_error", exc
    body = {"message": message, "type": kind, "param": None, "code": _CODES.get(status)}
    return JSONResponse({"error": body}, status_code=status)


def _usage(info: dict[str, Any]) -> dict[str, int]:
    p, c = int(info.get("prompt_tokens") or 0), int(info.get("completion_tokens") or 0)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _finish(info: dict[str, Any]) -> str:
    return "length" if info.get("finish_reason") == "length" else "stop"


async def _events(
    head: list[chat.Piece], rest: AsyncIterator[chat.Piece], body: ChatRequest
) -> AsyncIterator[bytes]:
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        return sse(
            {"id": cid, "object": "chat.completion.chunk", "created": created,
             "model": body.model, **extra,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        )  # fmt: skip

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for piece in chat.chain(head, rest):
            if piece.done:
                info = piece.info
                if info.get("error"):
                    yield sse({"error": {"message": info["error"], "type": "ChatStreamError"}})
                    return
                extra = {"sources": info["sources"]} if "sources" in info else {}
                yield chunk({}, _finish(info), **extra)
                if (body.stream_options or {}).get("include_usage"):
                    yield sse(
                        {"id": cid, "object": "chat.completion.chunk", "created": created,
                         "model": body.model, "choices": [], "usage": _usage(info)}
                    )  # fmt: skip
            elif piece.text:
                yield chunk({"content": piece.text})
    except Exception as exc:  # cut off midway: what arrived was sent; say why it ended
        yield sse({"error": {"message": chat.error_text(exc), "type": type(exc).__name__}})
        return
    yield sse("[DONE]")


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(
    request: Request, data: Annotated[dict[str, Any], Body(examples=[EXAMPLE])]
) -> JSONResponse | StreamingResponse:
    """Chat in OpenAI's shape; ``model`` is ``rag:INDEX`` or a chat model (``local``...)."""
    try:
        body = ChatRequest.model_validate(data)
    except ValidationError as exc:
        return _error(f"Invalid request: {chat.first_problem(exc)}.")
    messages = [{"role": m.role, "content": m.text()} for m in body.messages]
    max_tokens = body.max_completion_tokens or body.max_tokens or chat.DEFAULT_MAX_TOKENS
    try:
        head, rest = await chat.answer(request, body.model, messages, max_tokens)
        if body.stream:
            events = _events(head, rest, body)
            return StreamingResponse(events, media_type="text/event-stream")
        text, info = await chat.collect(head, rest)
    except EmbedlabError as exc:
        return _error(exc)
    if info.get("error"):
        return _error(str(info["error"]), 502)
    out: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": [
            {"index": 0, "finish_reason": _finish(info),
             "message": {"role": "assistant", "content": text}}
        ],
        "usage": _usage(info),
    }  # fmt: skip
    if "sources" in info:
        out["sources"] = info["sources"]
    return JSONResponse(out)
