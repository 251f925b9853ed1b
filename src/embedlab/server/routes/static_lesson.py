"""The static-model lesson: pairs where a static model and its teacher disagree most."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.explore.static_lesson import LESSON_PAIRS, MAX_PAIRS, static_lesson
from embedlab.server.models import get_pool

router = APIRouter(prefix="/lab", tags=["lab"])

#: the static model and the teacher the page shows by default.
DEFAULT_STATIC = "minilm-static"
DEFAULT_TEACHER = "minilm"


class LessonBody(BaseModel):
    pairs: list[list[str]] | None = Field(
        default=None,
        description="[[text a, text b], ...]; the ready pairs when omitted.",
        max_length=MAX_PAIRS,
    )
    static: str = Field(default=DEFAULT_STATIC, description="The static model.")
    teacher: str = Field(default=DEFAULT_TEACHER, description="The model it was distilled from.")


async def _lesson(request: Request, body: LessonBody) -> dict[str, Any]:
    pool = get_pool(request)
    static, static_load = await pool.encoder(body.static)
    teacher, teacher_load = await pool.encoder(body.teacher)
    pairs = body.pairs if body.pairs is not None else list(LESSON_PAIRS)
    res = await asyncio.to_thread(static_lesson, pairs, static, teacher)
    out = res.to_dict()
    out["load_ms"] = {"static": 1000 * static_load, "teacher": 1000 * teacher_load}
    out["info"] = {"static": static.info.to_dict(), "teacher": teacher.info.to_dict()}
    return out


@router.get("/static-lesson")
async def lesson_default(request: Request) -> dict[str, Any]:
    """The ready pairs (word order, context, negation, paraphrase), minilm-static vs minilm."""
    return await _lesson(request, LessonBody())


@router.post("/static-lesson")
async def lesson(body: LessonBody, request: Request) -> dict[str, Any]:
    """Your pairs, sorted by how far the static model's cosine is from its teacher's."""
    return await _lesson(request, body)
