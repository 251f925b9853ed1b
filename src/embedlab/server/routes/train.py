"""The Train page's API: step through one word2vec window and update, and the InfoNCE explainer."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.figures.train import infonce_sweep
from embedlab.server.models import get_pool
from embedlab.server.routes.lab import fig_json
from embedlab.train.infonce import explain_infonce
from embedlab.train.lab import advance, step_window

router = APIRouter(prefix="/lab/train", tags=["train"])


class WindowBody(BaseModel):
    sentence: str = Field(description="A sentence; its words are lower-cased.")
    window: int = Field(2, ge=1, le=10)
    centre: int = Field(0, ge=0, description="Position of the centre word.")
    pair: int = Field(0, ge=0, description="Which of the centre's pairs to update on.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Random seed (0 to 2^32-1).")


@router.post("/word2vec-step")
async def word2vec_step(body: WindowBody) -> dict[str, Any]:
    """Pairs of the sentence (reduced windows drawn), negatives and one SGNS update with its numbers."""
    step = await asyncio.to_thread(
        step_window, body.sentence, body.window, body.centre, body.pair, body.seed
    )
    return dataclasses.asdict(step)


class StepBody(BaseModel):
    run: str = Field(min_length=1, max_length=64, description="The page's run id.")
    sentence: str = Field(description="A sentence; its words are lower-cased.")
    window: int = Field(2, ge=1, le=10)
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Random seed (0 to 2^32-1).")
    mode: Literal["skipgram", "cbow"] = Field(
        "skipgram",
        description="skipgram: centre predicts each context word; cbow: the "
        "mean of the window's context words predicts the centre.",
    )


@router.post("/word2vec-advance")
async def word2vec_advance(body: StepBody) -> dict[str, Any]:
    """One more step of the run: the next pair, updated on the run's own model copy, so
    updates accumulate; the history draws the loss curve."""
    return await asyncio.to_thread(
        advance, body.run, body.sentence, body.window, body.seed, body.mode
    )


class InfoNCEBody(BaseModel):
    anchor: str
    positive: str
    negatives: list[str] = Field(min_length=1)
    model: str | None = None
    temperatures: int = Field(41, ge=3, le=200, description="Points on a log scale from 0.01 to 1.")


@router.post("/infonce")
async def infonce(body: InfoNCEBody, request: Request) -> dict[str, Any]:
    """Loss, P(positive) and gradients over temperatures (the page's slider picks among them)."""
    vectors = await get_pool(request).embed(
        body.model, [body.anchor, body.positive, *body.negatives]
    )
    temps = np.logspace(-2, 0, body.temperatures).round(5).tolist()
    ex = explain_infonce(body.anchor, body.positive, body.negatives, vectors, temps)
    out = dataclasses.asdict(ex)
    out["figure"] = fig_json(infonce_sweep(ex))
    return out
