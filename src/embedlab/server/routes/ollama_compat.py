"""``POST /api/embed`` (and the older ``/api/embeddings``) and ``GET /api/tags`` in Ollama's shape.

Works with the official ``ollama`` client (``Client(host="http://127.0.0.1:8765")``).
Like Ollama, the vectors come back L2-normalised and the durations are in nanoseconds;
``truncate=false`` with a text over the model's limit is a 400 that names the limit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from embedlab.errors import TextTooLongError
from embedlab.models.registry import CATALOGUE, is_installed
from embedlab.server.chat import chat_model_names
from embedlab.server.models import get_pool
from embedlab.server.responses import error_body, json_response
from embedlab.server.routes._common import strip_tag, text_list, usage_tokens
from embedlab.vectors import normalize, truncate

router = APIRouter(tags=["Ollama-compatible"])

_NS = 1_000_000_000


class EmbedRequest(BaseModel):
    """Ollama's ``/api/embed`` request."""

    model: str | None = Field(None, description="Model name; the server default when omitted.")
    input: str | list[Any] = Field(description="A text or a list of texts.")
    truncate: bool = Field(True, description="Cut texts over the limit; false: refuse them.")
    dimensions: int | None = Field(None, description="Keep the first N dims, renormalised.")
    keep_alive: str | int | None = None
    options: dict[str, Any] | None = None


class LegacyEmbeddingsRequest(BaseModel):
    """Ollama's older ``/api/embeddings`` request: one ``prompt``."""

    model: str | None = None
    prompt: str
    keep_alive: str | int | None = None
    options: dict[str, Any] | None = None


async def _embed(request: Request, model: str | None, texts: list[str], trunc: bool) -> Any:
    pool = get_pool(request)
    try:
        return await pool.embed_detailed(strip_tag(model), texts, "document", truncate=trunc)
    except TextTooLongError as exc:  # Ollama answers 400 here
        return JSONResponse(error_body(type(exc).__name__, str(exc)), status_code=400)


@router.post("/api/embed")
async def embed(body: EmbedRequest, request: Request) -> Any:
    """Embed ``input``; answers ``model``, ``embeddings`` and Ollama's nanosecond durations."""
    texts = text_list(body.input)
    out = await _embed(request, body.model, texts, body.truncate)
    if isinstance(out, JSONResponse):
        return out
    vecs = normalize(out.vectors)
    if body.dimensions is not None:
        vecs = truncate(vecs, body.dimensions)
    total = out.load_seconds + out.queue_seconds + out.inference_seconds
    return json_response(
        {
            "model": out.encoder.info.name,
            "embeddings": np.asarray(vecs, dtype=np.float64).tolist(),
            "total_duration": int(total * _NS),
            "load_duration": int(out.load_seconds * _NS),
            "prompt_eval_count": usage_tokens(out, texts),
            "timing": out.timing(),
        }
    )


@router.post("/api/embeddings")
async def embeddings_legacy(body: LegacyEmbeddingsRequest, request: Request) -> Any:
    """Ollama's older single-prompt endpoint: ``{"embedding": [...]}``."""
    out = await _embed(request, body.model, text_list(body.prompt, "prompt"), True)
    if isinstance(out, JSONResponse):
        return out
    return {"embedding": normalize(out.vectors)[0].astype(np.float64).tolist()}


@router.get("/api/tags")
async def tags() -> dict[str, Any]:
    """The installed models in Ollama's ``/api/tags`` shape: embedding models, then the chat
    models (``local``, and ``rag:INDEX`` for each index)."""
    now = datetime.now(UTC).isoformat()
    rows = []
    for s in CATALOGUE:
        if not is_installed(s):
            continue
        rows.append(
            {
                "name": s.name,
                "model": s.name,
                "modified_at": now,
                "size": s.size_mb * 1_000_000,
                "digest": "",
                "details": {
                    "format": s.kind,
                    "family": "embedlab",
                    "families": ["embedlab"],
                    "parameter_size": f"{s.dims}d",
                    "quantization_level": "",
                },
            }
        )
    for name in chat_model_names():  # chat: the local model, and each index as rag:INDEX
        rows.append(
            {"name": name, "model": name, "modified_at": now, "size": 0, "digest": "",
             "details": {"format": "gguf" if not name.startswith("rag:") else "rag",
                         "family": "chat", "families": ["chat"], "parameter_size": "",
                         "quantization_level": ""}}
        )  # fmt: skip
    return {"models": rows}
