"""The model chooser's API: the models on this machine and the configured servers, and a
measurement of one of them (encode speed, quality) on a test collection."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.evaluate.chooser import catalogue_rows, measure_model, server_rows, trained_rows
from embedlab.evaluate.collections import DEFAULT_NEWS, list_collections, open_collection
from embedlab.server.access import policy_of, trained_dir
from embedlab.server.limits import long_job
from embedlab.server.models import get_pool

router = APIRouter(prefix="/lab/chooser", tags=["evaluate"])


class MeasureBody(BaseModel):
    model: str = Field(description="A model of the chooser's table.")
    dataset: str = Field(DEFAULT_NEWS, description="The test collection to measure quality on.")


@router.get("")
async def models(request: Request) -> dict[str, Any]:
    """Every model here and on the configured servers, with what is known without measuring."""
    pool = get_pool(request)
    loaded = {n: (await pool.encoder(n, trusted=True))[0] for n in pool.loaded()}
    rows = catalogue_rows(loaded) + await asyncio.to_thread(trained_rows, trained_dir(), loaded)
    rows += await asyncio.to_thread(server_rows, pool.remote_options)
    return {
        "models": [r.to_dict() for r in rows],
        "collections": list_collections(),
        "default_collection": DEFAULT_NEWS,
    }


@router.post("/measure")
async def measure(body: MeasureBody, request: Request) -> dict[str, Any]:
    """Encode speed and nDCG@10 of one model on the collection, measured now. A long job."""
    dataset = policy_of(request).dataset(body.dataset)
    enc, load_s = await get_pool(request).encoder(body.model)
    async with long_job(request, "chooser"):
        ds = await asyncio.to_thread(open_collection, dataset)
        res = await asyncio.to_thread(measure_model, enc, ds)
    return {**res.to_dict(), "name": body.model, "load_ms": 1000 * load_s}
