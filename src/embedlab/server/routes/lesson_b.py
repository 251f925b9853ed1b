"""Three lessons: why two texts are similar (leave one word out), contrastive forces over
InfoNCE steps, and the hard-negative explorer. The work is in the core
(:mod:`embedlab.explore.attribution`, :mod:`embedlab.train.forces`,
:mod:`embedlab.train.negatives_explorer`); these routes name models and indexes through the
access policy and run the training and mining as long jobs."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.errors import IndexNotFoundError
from embedlab.explore.attribution import attribute_pair
from embedlab.server.access import policy_of
from embedlab.server.limits import long_job
from embedlab.server.models import get_pool
from embedlab.train.forces import MAX_NEGATIVES, MAX_STEPS, contrastive_forces
from embedlab.train.negatives_explorer import explore_negatives

router = APIRouter(prefix="/lab", tags=["lab"])

DEMO = "demo"


class WhyBody(BaseModel):
    a: str = Field(description="Text A.")
    b: str = Field(description="Text B.")
    model: str | None = Field(default=None, description="The model (the server's default).")


@router.post("/why-similar")
async def why_similar(body: WhyBody, request: Request) -> dict[str, Any]:
    """Each word's weight: how much the pair's cosine drops without it (leave one word out)."""
    enc, load_s = await get_pool(request).encoder(body.model)
    res = await asyncio.to_thread(attribute_pair, enc, body.a, body.b)
    out = res.to_dict()
    out["timing"] = {"inference_ms": 1000 * res.seconds, "load_ms": 1000 * load_s}
    return out


class ForcesBody(BaseModel):
    anchor: str
    positive: str
    negatives: list[str] = Field(min_length=1, max_length=MAX_NEGATIVES)
    steps: int = Field(default=5, ge=1, le=MAX_STEPS)
    lr: float = Field(default=2e-5, ge=1e-7, le=1e-2, description="AdamW learning rate.")
    temperature: float = Field(default=0.1, ge=0.01, le=1.0, description="InfoNCE's τ.")
    model: str = Field(default="minilm", description="A sentence-transformers model.")


@router.post("/forces")
async def forces(body: ForcesBody, request: Request) -> dict[str, Any]:
    """A copy of the model takes ``steps`` InfoNCE steps; the cosines and loss at each."""
    enc, load_s = await get_pool(request).encoder(body.model)
    async with long_job(request, "training"):
        run = await asyncio.to_thread(
            contrastive_forces,
            enc,
            body.anchor,
            body.positive,
            body.negatives,
            steps=body.steps,
            lr=body.lr,
            temperature=body.temperature,
        )
    out = run.to_dict()
    out["timing"] = {"inference_ms": 1000 * run.seconds, "load_ms": 1000 * load_s}
    return out


class NegativesBody(BaseModel):
    index: str = Field(default=DEMO, description="A stored index ('demo': the demo corpus).")
    query: str
    positive: str | None = Field(
        default=None, description="The query's relevant text; empty: the top document."
    )
    method: Literal["dense", "bm25"] = "dense"
    margin: float = Field(default=0.1, ge=0, le=10)
    rank_low: int = Field(default=1, ge=1, le=100)
    rank_high: int = Field(default=10, ge=1, le=100)


@router.post("/hard-negatives")
async def hard_negatives(body: NegativesBody, request: Request) -> dict[str, Any]:
    """What ``embedlab train mine`` picks for one query from an index, with both scores."""
    from embedlab.stores import list_indexes, open_index

    name = policy_of(request).index(body.index)
    pool = get_pool(request)
    async with long_job(request, "mining"):
        if name == DEMO:
            from embedlab.demo import ensure_demo_index

            default, _ = await pool.encoder(None)
            await asyncio.to_thread(ensure_demo_index, default)
        if name not in await asyncio.to_thread(list_indexes):
            raise IndexNotFoundError(
                f"No index named {name!r}: pick one of GET /lab/search/indexes, or 'demo'."
            )
        index = await asyncio.to_thread(open_index, name)
        enc, load_s = await pool.encoder(index.model_name, trusted=True)  # the index's own
        texts = await asyncio.to_thread(index.texts)
        vectors = await asyncio.to_thread(index.vectors) if body.method == "dense" else None
        view = await asyncio.to_thread(
            explore_negatives,
            enc,
            texts,
            body.query,
            body.positive,
            method=body.method,
            margin=body.margin,
            rank_range=(body.rank_low, body.rank_high),
            vectors=vectors,
        )
    out = view.to_dict()
    out["index"] = name
    out["model"] = enc.info.name
    out["timing"] = {"inference_ms": 1000 * view.seconds, "load_ms": 1000 * load_s}
    return out
