"""``POST /v1/embeddings`` and ``GET /v1/models`` in OpenAI's shape.

Works with the official ``openai`` client (``base_url="http://127.0.0.1:8765/v1"``), so any
tool that speaks OpenAI embeddings can use the local models. ``dimensions`` truncates
Matryoshka-style and renormalises; ``encoding_format="base64"`` sends little-endian float32
like OpenAI. A text over the model's token limit is refused (413) as OpenAI refuses it.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from embedlab.models.registry import CATALOGUE, is_installed
from embedlab.server.chat import chat_model_names
from embedlab.server.models import get_pool
from embedlab.server.responses import json_response
from embedlab.server.routes._common import text_list, usage_tokens
from embedlab.vectors import truncate

router = APIRouter(tags=["OpenAI-compatible"])


class EmbeddingsRequest(BaseModel):
    """OpenAI's embeddings request (token-array inputs are not supported)."""

    input: str | list[Any] = Field(description="A text or a list of texts.")
    model: str | None = Field(None, description="Model name; the server default when omitted.")
    dimensions: int | None = Field(None, description="Keep the first N dims, renormalised.")
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = None
    role: Literal["document", "query"] = Field(
        "document", description="embedlab extension: 'query' adds a query prefix (E5)."
    )


def _encode(vecs: np.ndarray, fmt: str) -> list[Any]:
    if fmt == "base64":
        le = np.ascontiguousarray(vecs, dtype="<f4")
        return [base64.b64encode(row.tobytes()).decode("ascii") for row in le]
    out: list[Any] = np.asarray(vecs, dtype=np.float64).tolist()
    return out


@router.post("/v1/embeddings")
async def embeddings(body: EmbeddingsRequest, request: Request) -> Response:
    """Embed ``input`` with ``model``; answers OpenAI's list of embedding objects."""
    pool = get_pool(request)
    texts = text_list(body.input)
    out = await pool.embed_detailed(body.model, texts, body.role, truncate=False)
    vecs = out.vectors
    if body.dimensions is not None:
        vecs = truncate(vecs, body.dimensions)
    tokens = usage_tokens(out, texts)
    return json_response(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": e}
                for i, e in enumerate(_encode(vecs, body.encoding_format))
            ],
            "model": out.encoder.info.name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            "timing": out.timing(),
        }
    )


@router.get("/v1/models")
async def models(request: Request) -> dict[str, Any]:
    """The installed models, in OpenAI's model-list shape; ``kind`` (an embedlab extension)
    says ``embedding`` or ``chat`` (``local``, and ``rag:INDEX`` for each index)."""
    loaded = set(get_pool(request).loaded())
    extra = [n for n in loaded if all(n != s.name for s in CATALOGUE)]
    names = [s.name for s in CATALOGUE if is_installed(s)] + extra
    rows = [(n, "embedding") for n in names] + [(n, "chat") for n in chat_model_names()]
    return {
        "object": "list",
        "data": [
            {"id": n, "object": "model", "created": 0, "owned_by": "embedlab", "kind": kind}
            for n, kind in rows
        ],
    }
