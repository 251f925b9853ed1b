"""The Words page's API: one-hot versus dense vectors, and a 2-D word space.

Both name a model with ``model`` (resolved by the pool, so the access policy holds) and send
their words in the body; nothing is read from disk by name.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.explore.onehot import LESSON_WORDS, onehot_vs_dense
from embedlab.explore.onehot import MAX_WORDS as ONEHOT_MAX
from embedlab.maps.word_space import MAX_WORDS as SPACE_MAX
from embedlab.maps.word_space import WORD_LISTS, word_space
from embedlab.server.models import get_pool

router = APIRouter(prefix="/lab/words", tags=["lab"])


class OneHotBody(BaseModel):
    words: list[str] = Field(
        default_factory=lambda: list(LESSON_WORDS), min_length=2, max_length=ONEHOT_MAX
    )
    model: str = Field("glove-50d", description="The dense model (GloVe or a sentence model).")
    chosen: str | None = Field(None, description="The word to read similarities from.")


class SpaceBody(BaseModel):
    words: list[str] = Field(min_length=4, max_length=SPACE_MAX)
    groups: list[str] | None = Field(
        None, max_length=SPACE_MAX, description="Each word's family; clustered when omitted."
    )
    model: str = Field("glove-50d", description="GloVe or a sentence model.")
    method: str = Field("pca", description="pca, umap or tsne (the Map page's projections).")
    clusters: int | None = Field(None, ge=2, le=20, description="Groups for typed words.")
    seed: int = Field(0, ge=0, le=2**32 - 1)


@router.post("/onehot")
async def onehot(body: OneHotBody, request: Request) -> dict[str, Any]:
    """The words as one-hot vectors and as the model's vectors; similarities from ``chosen``."""
    enc, load_s = await get_pool(request).encoder(body.model)
    res = await asyncio.to_thread(onehot_vs_dense, body.words, enc, body.chosen)
    return {**res.to_dict(), "load_ms": 1000 * load_s}


@router.get("/lists")
async def lists() -> dict[str, Any]:
    """The ready word lists: name -> family -> words."""
    return {"lists": WORD_LISTS, "default_words": list(LESSON_WORDS)}


@router.post("/space")
async def space(body: SpaceBody, request: Request) -> dict[str, Any]:
    """The words embedded by ``model`` and projected to 2-D with the Map page's code."""
    enc, load_s = await get_pool(request).encoder(body.model)
    res = await asyncio.to_thread(
        lambda: word_space(
            body.words,
            enc,
            groups=body.groups,
            method=body.method,
            clusters=body.clusters,
            seed=body.seed,
        )
    )
    return {**res.to_dict(), "load_ms": 1000 * load_s}
