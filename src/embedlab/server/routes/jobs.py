"""Background jobs: list them, follow one's progress as NDJSON, cancel one.

Jobs are started by the routes of their kind (``POST /lab/indexes/create``, ``POST
/lab/maps/jobs``, ``POST /lab/evaluate/grid/jobs``, ``POST /lab/evaluate/rerankers/train``);
see :mod:`embedlab.server.jobs` for the mechanism.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from embedlab.server.jobs import follow, jobs_of
from embedlab.server.streaming import ndjson

router = APIRouter(prefix="/lab/jobs", tags=["jobs"])


@router.get("")
async def list_jobs(request: Request) -> dict[str, Any]:
    """The jobs running now, then the finished ones this server keeps (without results)."""
    return {"jobs": [j.snapshot() | {"result": None} for j in jobs_of(request).all()]}


@router.get("/{job_id}")
async def job_status(job_id: str, request: Request) -> dict[str, Any]:
    """One job: state, last event, and the result once done."""
    return jobs_of(request).get(job_id).snapshot()


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def job_events(
    job_id: str, request: Request, after: int = Query(0, ge=0, le=1_000_000)
) -> StreamingResponse:
    """The job's events as NDJSON, one line each as they happen (``after``: skip the first
    ones already seen): ``progress`` lines (stage, fraction 0..1 or null, counts), then one
    of ``done`` (with ``result``), ``error`` (with ``error.type`` and ``error.message``) or
    ``cancelled``."""
    job = jobs_of(request).get(job_id)

    async def lines() -> AsyncIterator[bytes]:
        async for event in follow(job, after):
            yield ndjson(event)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.post("/{job_id}/cancel")
async def cancel_job(job_id: str, request: Request) -> dict[str, Any]:
    """Ask the job to stop at its next progress check; it ends with a ``cancelled`` event
    (work already committed, e.g. files of an index update, stays; a new index is removed)."""
    job = jobs_of(request).get(job_id)
    asked = job.cancel()
    return {"id": job.id, "cancel_requested": asked, "state": job.state}
