"""The Measure page's API: the retrieval grid on a test collection, the cost calculator,
and the query-set builder (search an index, mark what is relevant, save qrels).

Heavy work (embedding, the grid, latency measurement) runs in a worker thread so the server
keeps answering. Figures come from :mod:`embedlab.figures.evaluate`.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.evaluate.collections import (
    Judgment,
    list_collections,
    open_collection,
    save_judgments,
)
from embedlab.evaluate.cost import cost_table
from embedlab.evaluate.grid import MODES, QUANTIZE, run_grid
from embedlab.evaluate.report import compare_queries, default_pair
from embedlab.figures.evaluate import cost_bars, latency_bars, quality_vs_bytes, quality_vs_dims
from embedlab.server.access import policy_of
from embedlab.server.limits import long_job
from embedlab.server.routes.lab import fig_json

router = APIRouter(prefix="/lab/evaluate", tags=["evaluate"])
#: the most queries the per-query comparison sends back.
COMPARE_ROWS = 30


class GridRequest(BaseModel):
    """One grid run."""

    dataset: str = Field(..., description="A collection name (see GET /lab/evaluate/collections).")
    models: list[str] = Field(["minilm"], min_length=1)
    modes: list[str] = Field(["dense", "bm25", "hybrid"])
    dims: list[int] | None = Field(None, description="Matryoshka sizes (default: full).")
    quantize: list[str] = Field(["none"])
    k: int = Field(10, ge=1, le=100)
    reranker: str | None = Field(
        None, description="A trained reranker's name or one the server was started with."
    )
    rescore: bool = False


class CostRequest(BaseModel):
    """A cost estimate for N documents."""

    n: int = Field(..., ge=1, le=10_000_000_000)
    model: str = "minilm"
    dims: list[int] | None = None
    quantize: list[str] = Field(["none", "int8", "binary"])
    rescore: bool = False


class SearchRequest(BaseModel):
    """A search in a stored index, for the query-set builder."""

    index: str
    query: str = Field(..., min_length=1)
    k: int = Field(10, ge=1, le=50)
    mode: str = "hybrid"


class JudgmentIn(BaseModel):
    query: str
    chunk_id: int
    grade: int = Field(1, ge=0, le=3)


class SaveRequest(BaseModel):
    """Marks to add to a named collection."""

    name: str
    index: str
    judgments: list[JudgmentIn] = Field(..., min_length=1)


@router.get("/options")
async def options() -> dict[str, Any]:
    """What the page can offer: collections, indexes, modes and precisions."""
    from embedlab.stores import list_indexes

    return {
        "collections": list_collections(),
        "indexes": list_indexes(),
        "modes": list(MODES),
        "quantize": [q for q in QUANTIZE if q != "float32"],
    }


def _grid(req: GridRequest) -> dict[str, Any]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = open_collection(req.dataset)
    grid = run_grid(
        ds,
        req.models,
        req.modes,
        req.dims,
        req.quantize,
        k=req.k,
        reranker=req.reranker,
        rescore=req.rescore,
    )
    rows = grid.rows()
    a, b = default_pair(grid)
    worse = compare_queries(grid, a, b)[:COMPARE_ROWS] if a != b else []
    return {
        "dataset": grid.dataset,
        "primary": grid.primary,
        "metrics": grid.metric_names,
        "rows": rows,
        "embedding": grid.embedding,
        "seconds": grid.seconds,
        "warnings": [str(w.message) for w in caught],
        "compare": {"a": a, "b": b, "queries": worse},
        "figures": {
            "dims": fig_json(quality_vs_dims(rows, grid.primary)),
            "bytes": fig_json(quality_vs_bytes(rows, grid.primary)),
            "latency": fig_json(latency_bars(rows)),
        },
    }


@router.post("/grid")
async def grid(req: GridRequest, request: Request) -> dict[str, Any]:
    """Run the grid (embeddings cached per model and corpus) and return table and figures.

    One of the long jobs: a 429 when the server already runs its limit of them.
    """
    policy = policy_of(request)
    checked = req.model_copy(
        update={
            "dataset": policy.dataset(req.dataset),
            "models": policy.models_list(req.models),
            "reranker": policy.reranker(req.reranker),
        }
    )
    async with long_job(request, "grid"):
        return await asyncio.to_thread(_grid, checked)


def _cost(req: CostRequest) -> dict[str, Any]:
    estimates = cost_table(req.n, req.model, req.dims, req.quantize, rescore=req.rescore)
    rows = [e.to_dict() for e in estimates]
    return {
        "rows": rows,
        "assumption": estimates[0].assumption if estimates else "",
        "figure": fig_json(cost_bars(rows)),
    }


@router.post("/cost")
async def cost(req: CostRequest, request: Request) -> dict[str, Any]:
    """Storage, RAM and extrapolated search latency per dims and precision."""
    model = policy_of(request).model(req.model) or req.model
    return await asyncio.to_thread(_cost, req.model_copy(update={"model": model}))


def _search(req: SearchRequest) -> dict[str, Any]:
    from embedlab.search.pipeline import search

    result = search(req.index, req.query, k=req.k, mode=req.mode)
    return {
        "query": req.query,
        "hits": [
            {
                "chunk_id": h.chunk.id,
                "rank": h.rank,
                "score": h.score,
                "title": h.chunk.title,
                "text": h.chunk.text,
            }
            for h in result.hits
        ],
    }


@router.post("/search")
async def builder_search(req: SearchRequest, request: Request) -> dict[str, Any]:
    """Search a stored index so results can be marked relevant."""
    policy_of(request).index(req.index)
    return await asyncio.to_thread(_search, req)


@router.post("/qrels")
async def save(req: SaveRequest, request: Request) -> dict[str, Any]:
    """Add the marks to collection ``name`` (a BEIR folder over the index's chunks)."""
    policy = policy_of(request)
    policy.dataset(req.name)
    policy.index(req.index)
    marks = [Judgment(j.query, j.chunk_id, j.grade) for j in req.judgments]
    ds = await asyncio.to_thread(save_judgments, req.name, req.index, marks)
    return {"collection": req.name, **ds.summary()}
