"""The Matryoshka page's API: quality, bytes, storage and search time per vector size."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.evaluate.collections import DEFAULT_NEWS, list_collections, open_collection
from embedlab.evaluate.matryoshka import matryoshka_curve
from embedlab.server.access import policy_of
from embedlab.server.limits import long_job
from embedlab.server.models import get_pool

router = APIRouter(prefix="/lab/matryoshka", tags=["evaluate"])


class MatryoshkaBody(BaseModel):
    dataset: str = Field(
        DEFAULT_NEWS, description="A test collection (GET /lab/matryoshka/options)."
    )
    model: str = Field("minilm", description="The model whose vectors are cut.")
    n: int = Field(1_000_000, ge=1, le=10_000_000_000, description="Documents to size storage for.")
    dims: list[int] | None = Field(None, max_length=64, description="Sizes (default: a ladder).")


@router.get("/options")
async def options() -> dict[str, Any]:
    """The test collections the page can measure on."""
    return {"collections": list_collections(), "default": DEFAULT_NEWS}


@router.post("")
async def curve(body: MatryoshkaBody, request: Request) -> dict[str, Any]:
    """nDCG@10 retained, bytes per vector, storage of N documents and measured search time
    at each size, and whether the model was trained for truncation. A long job."""
    dataset = policy_of(request).dataset(body.dataset)
    enc, load_s = await get_pool(request).encoder(body.model)
    async with long_job(request, "matryoshka"):
        ds = await asyncio.to_thread(open_collection, dataset)
        res = await asyncio.to_thread(
            lambda: matryoshka_curve(ds, enc, body.dims, n_documents=body.n)
        )
    return {**res.to_dict(), "load_ms": 1000 * load_s}
