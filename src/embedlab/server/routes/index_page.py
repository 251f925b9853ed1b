"""The Index page's API: make an index from uploaded files or pasted texts, add to it, drop
it; the indexing runs as a background job (progress streamed, cancellable: see
:mod:`embedlab.server.routes.jobs`).

The same ingest as ``embedlab index create/update``; uploads are request bodies written to a
folder the server owns (:mod:`embedlab.server.uploads`), never a path the request names.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.errors import InputError
from embedlab.server.access import policy_of
from embedlab.server.jobs import Job, start_job
from embedlab.server.limits import check_count, limits_of
from embedlab.server.models import get_pool
from embedlab.server.uploads import (
    decode_upload,
    drop_web_index,
    index_rows,
    index_texts,
    owned_folder,
)

router = APIRouter(prefix="/lab/indexes", tags=["indexes"])


class UploadIn(BaseModel):
    """One file read by the page: its name (only a cleaned base name is kept) and content."""

    filename: str = Field(..., min_length=1, max_length=255)
    content: str = Field(..., description="The file's text, or its bytes in base64.")
    encoding: Literal["text", "base64"] = "text"


class IndexRequest(BaseModel):
    """Texts and files to index under ``name``."""

    name: str = Field(..., min_length=1, max_length=64, description="The index's name.")
    model: str | None = Field(
        None, description="Embedding model (create only; default: the server's)."
    )
    texts: list[str] = Field([], description="Pasted texts: each becomes one document.")
    uploads: list[UploadIn] = Field([], description="Files read by the page.")


class DropRequest(BaseModel):
    """The index to drop."""

    name: str = Field(..., min_length=1, max_length=64)


@router.get("")
async def indexes() -> dict[str, Any]:
    """Every index: model, dims, files, chunks, size, last update, made from the page or not,
    and how a dense query runs (``IndexStats.dense_search``, passed as the core gives it)."""
    return {"indexes": await asyncio.to_thread(index_rows)}


async def _start(req: IndexRequest, request: Request, update: bool) -> dict[str, Any]:
    name = policy_of(request).index(req.name)
    owned_folder(name)  # a bad name is refused before a job starts
    limit = limits_of(request).max_batch
    check_count(len(req.uploads), limit, "uploaded files")
    check_count(len(req.texts), limits_of(request).max_map_texts, "pasted texts",
                "EMBEDLAB_MAX_MAP_TEXTS")  # fmt: skip
    uploads = [decode_upload(u.filename, u.content, u.encoding) for u in req.uploads]
    if not update and not uploads and not any(t.strip() for t in req.texts):
        raise InputError(
            "Nothing to index: upload at least one file (.txt, .md, .html, .jsonl, .csv, "
            ".pdf) or paste texts, one per line."
        )
    pool = get_pool(request)
    if update:
        from embedlab.stores import open_index

        model = await asyncio.to_thread(lambda: open_index(name).stats().model)
        encoder, _ = await pool.encoder(model, trusted=True)  # the index's own model
    else:
        encoder, _ = await pool.encoder(req.model)

    def work(job: Job) -> dict[str, Any]:
        return index_texts(name, uploads, req.texts, encoder, update=update, report=job.progress)

    verb = "update" if update else "create"
    job = await start_job(request, "index", f"{verb} index {name}", work)
    return {"job": job.id, "name": name, "events": f"/lab/jobs/{job.id}/events"}


@router.post("/create")
async def create(req: IndexRequest, request: Request) -> dict[str, Any]:
    """Start indexing the uploads and texts into a new index ``name`` (a background job:
    follow ``events``; cancelling removes the half-made index)."""
    return await _start(req, request, update=False)


@router.post("/update")
async def update(req: IndexRequest, request: Request) -> dict[str, Any]:
    """Start adding uploads and texts to an index made from the page and re-reading its
    files (without uploads: re-read any index's files, as ``embedlab index update``)."""
    return await _start(req, request, update=True)


@router.post("/drop")
async def drop(req: DropRequest, request: Request) -> dict[str, Any]:
    """Drop index ``name`` (and the files the page uploaded for it)."""
    name = policy_of(request).index(req.name)
    owned_folder(name)
    return await asyncio.to_thread(drop_web_index, name)
