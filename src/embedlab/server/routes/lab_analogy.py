"""The lab's analogies (with the parallelogram figure), bias probes, the sentiment probe and
the guided exercises (the presets the exercises page runs through the other panels)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.explore.analogy import analogy, is_word_model
from embedlab.explore.probes import (
    BIAS_CAUTION,
    BIAS_PROBES,
    EXERCISES,
    SENTIMENT_PAIRS,
    topic_vs_sentiment,
)
from embedlab.figures.vectors import parallelogram
from embedlab.server.models import get_pool
from embedlab.server.routes.lab import fig_json, timing

router = APIRouter(prefix="/lab", tags=["lab"])


class AnalogyBody(BaseModel):
    a: str = Field(description="a in a - b + c (king)")
    b: str = Field(description="b in a - b + c (man)")
    c: str = Field(description="c in a - b + c (woman)")
    model: str | None = Field(
        None, description="glove-50d searches its vocabulary; a sentence model searches candidates."
    )
    k: int = Field(10, ge=1, le=100)
    method: Literal["3cosadd", "3cosmul"] = "3cosadd"
    exclude_inputs: bool = True
    expected: str | None = None
    candidates: list[str] | None = Field(None, description="Texts to search (sentence models).")
    restrict_vocab: int | None = Field(None, ge=1)


@router.post("/analogy")
async def lab_analogy(body: AnalogyBody, request: Request) -> dict[str, Any]:
    """a - b + c: the top-k answers, the expected answer's rank, and the parallelogram."""

    pool = get_pool(request)
    pool.check_batch(len(body.candidates or []))
    enc, load_s = await pool.encoder(body.model)
    expected = body.expected.strip() if body.expected and body.expected.strip() else None
    start = time.perf_counter()
    res = await asyncio.to_thread(
        analogy, enc, body.a, body.b, body.c, k=body.k, method=body.method,
        exclude_inputs=body.exclude_inputs, expected=expected,
        restrict_vocab=body.restrict_vocab, candidates=body.candidates,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    answers = [t for t, _ in res.candidates[:3]]
    fig = parallelogram(
        res.vectors, res.a, res.b, res.c, answers, f"{res.expression} ({res.model}, PCA)"
    )
    out = res.to_dict()
    out["word_model"] = is_word_model(enc)
    out["figure"] = fig_json(fig)
    out["timing"] = timing(seconds, load_s)
    return out


@router.get("/probes")
async def lab_probes() -> dict[str, Any]:
    """The ready bias probes (with their mirrors), the caution, and the sentiment pairs."""
    return {
        "bias": [
            {
                "a": p.a,
                "b": p.b,
                "c": p.c,
                "theme": p.theme,
                "expression": p.expression,
                "mirror": p.mirror.expression,
            }
            for p in BIAS_PROBES
        ],  # fmt: skip
        "caution": BIAS_CAUTION,
        "sentiment_pairs": [dataclasses.asdict(p) for p in SENTIMENT_PAIRS],
    }


class SentimentBody(BaseModel):
    model: str | None = None


@router.post("/sentiment")
async def lab_sentiment(body: SentimentBody, request: Request) -> dict[str, Any]:
    """Topic vs sentiment over the ready pairs: does the model group by topic?"""

    enc, load_s = await get_pool(request).encoder(body.model)
    start = time.perf_counter()
    res = await asyncio.to_thread(topic_vs_sentiment, enc)
    out = res.to_dict()
    out["timing"] = timing(time.perf_counter() - start, load_s)
    return out


@router.get("/exercises")
async def lab_exercises() -> dict[str, Any]:
    """The guided exercises: id, title, the panel that runs it, its inputs and the note."""
    return {
        "exercises": [
            {"id": e.id, "title": e.title, "kind": e.kind, "inputs": e.inputs,
             "notice": e.notice, "models": list(e.models)}
            for e in EXERCISES
        ]
    }  # fmt: skip
