"""The Ask page's API: what can be chosen (chat models, rerankers, the configured chat
servers), and one question answered from an index with every stage streamed.

``POST /lab/ask`` answers NDJSON, one event a line (``fetch`` + ``ReadableStream`` on the
page): ``vector`` (the question's vector as a figure), the pipeline's ``stage`` events
(``search``: hits with per-stage ranks; ``prompt``: the messages and the context budget,
what fit and what did not), ``token`` events as the answer streams, and ``done`` with the
whole :class:`embedlab.ask.AskResult` and the rank-movement figure. Anything that fails
before the first event is an HTTP error in the usual JSON shape; a stream cut off midway
ends with an ``error`` event after what arrived. Retrieval and generation run in a worker
thread (:func:`embedlab.ask.ask_stream`), so the server keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from embedlab.errors import EmptyInputError
from embedlab.search.retrieve import check_candidates
from embedlab.server import chat
from embedlab.server.models import get_pool
from embedlab.server.routes.lab import fig_json
from embedlab.server.streaming import ndjson, thread_iter

router = APIRouter(prefix="/lab/ask", tags=["ask"])


class AskBody(BaseModel):
    """One question to one index, with the stages and the chat model to use."""

    index: str = Field(..., description="Name of a stored index.")
    question: str = Field(..., description="What to ask.")
    model: str | None = Field(None, description="Chat model: local, ollama:NAME, openai:NAME.")
    mode: str = Field("hybrid", description="dense, bm25 or hybrid.")
    k: int = Field(5, ge=1, le=50)
    rerank: str | None = Field(None, description="A trained reranker's name.")
    dims: int | None = Field(None, ge=1, description="Matryoshka first stage dims.")
    quantize: str | None = Field(None, description="int8 or binary first stage.")
    candidates: int | None = Field(
        None,
        description="Rescoring depth of the dims/quantize first stage (at least k; null: "
        "the stage's default); the depth used is in the search stage's settings.rescore_depth.",
    )
    context_tokens: int | None = Field(None, ge=1, description="Context budget override.")
    max_tokens: int = Field(128, ge=1, le=2048, description="Room for the answer (tokens).")


@router.get("/options")
async def options(request: Request) -> dict[str, Any]:
    """Chat models (local ones and those of each configured server), the chat servers (up
    or down, with their URL), and the rerankers a request may name."""
    from embedlab.ask import DEFAULT_CHAT, list_chat_models
    from embedlab.models.discover import list_rerankers
    from embedlab.server.access import trained_dir

    listings = await chat.list_servers(request)
    local = [
        {"name": m["name"], "description": m["description"], "installed": m["installed"],
         "context_window": m["context_window"], "install": m["install"]}
        for m in list_chat_models() if not m["prefix"]
    ]  # fmt: skip
    remote = [
        {"name": m.name, "description": f"on {s.url}", "installed": True, "server": s.url}
        for s in listings
        for m in s.models
        if m.kind == "chat"
    ]
    config = getattr(request.app.state, "config", None)
    operator = list(getattr(config, "rerankers", ()) or ())
    rerankers = operator + await asyncio.to_thread(list_rerankers, trained_dir())
    return {
        "default": DEFAULT_CHAT,
        "chat": local + remote,
        "servers": [s.to_dict() for s in listings],
        "rerankers": rerankers,
    }


def _events(index: Any, body: AskBody, model: Any, encoder: Any) -> Iterator[dict[str, Any]]:
    """The pipeline's events as dicts; ``done`` also carries the rank-movement figure."""
    from embedlab.ask import ask_stream
    from embedlab.figures.search import rank_movement_figure

    stages = body.model_dump(
        include={"mode", "k", "dims", "quantize", "candidates", "context_tokens"}
    )
    for event in ask_stream(
        index, body.question, chat=model, rerank=body.rerank or None, encoder=encoder,
        max_tokens=body.max_tokens, **stages,
    ):  # fmt: skip
        data: dict[str, Any] = event.to_dict()
        if event.type == "done":
            data["movement"] = fig_json(rank_movement_figure(event.result.search))
        yield data


async def _vector_event(request: Request, index: Any, question: str) -> dict[str, Any]:
    from embedlab.figures.vectors import dimension_bars

    vectors = await get_pool(request).embed(index.model_name, [question], "query", trusted=True)
    vec = vectors[0]
    figure = fig_json(dimension_bars(vec, height=160))
    return {"type": "vector", "model": index.model_name, "dims": int(vec.shape[0]),
            "norm": float((vec.astype("float64") ** 2).sum() ** 0.5), "figure": figure}  # fmt: skip


async def _stream(first: list[dict[str, Any]], rest: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    for event in first:
        yield ndjson(event)
    try:
        async for event in rest:
            yield ndjson(event)
    except Exception as exc:  # cut off midway: what arrived was sent; say why it ended
        yield ndjson({"type": "error", "message": chat.error_text(exc)})


@router.post("")
async def ask(body: AskBody, request: Request) -> StreamingResponse:
    """Answer ``body.question`` from ``body.index``, streaming every stage (NDJSON)."""
    from embedlab.stores import open_index

    if not body.question.strip():
        raise EmptyInputError("The question is empty: type what you want to know.")
    check_candidates(body.candidates, body.k, body.dims, body.quantize or None)
    policy = getattr(request.app.state, "policy", None)
    rerank = policy.reranker(body.rerank) if policy is not None else body.rerank
    body = body.model_copy(update={"rerank": rerank})
    index_name = chat.check_rag_index(request, body.index)
    index = await asyncio.to_thread(open_index, index_name)
    encoder, _ = await get_pool(request).encoder(index.model_name, trusted=True)
    model = await chat.open_chat(request, body.model)
    first = [await _vector_event(request, index, body.question)]
    events = thread_iter(lambda: _events(index, body, model, encoder))
    async for event in events:  # errors before the first stage answer an HTTP error
        first.append(event)
        break
    return StreamingResponse(_stream(first, events), media_type="application/x-ndjson")
