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

from embedlab.errors import InputError
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
from embedlab.server.access import policy_of, trained_dir
from embedlab.server.jobs import Job, start_job
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


class TrainRerankerRequest(BaseModel):
    """Train a reranker on an index's title -> text pairs, saved in embedlab's home."""

    index: str = Field(..., description="The index whose titled documents give the pairs.")
    name: str = Field(..., min_length=1, max_length=64, description="The new reranker's name.")
    epochs: int = Field(1, ge=1, le=5)
    max_pairs: int = Field(300, ge=10, le=5000, description="Most pairs trained on.")


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


def _grid(req: GridRequest, job: Job | None = None) -> dict[str, Any]:
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
        progress=None if job is None else job.progress,
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


def _checked(req: GridRequest, request: Request) -> GridRequest:
    policy = policy_of(request)
    return req.model_copy(
        update={
            "dataset": policy.dataset(req.dataset),
            "models": policy.models_list(req.models),
            "reranker": policy.reranker(req.reranker),
        }
    )


@router.post("/grid")
async def grid(req: GridRequest, request: Request) -> dict[str, Any]:
    """Run the grid (embeddings cached per model and corpus) and return table and figures.

    One of the long jobs: a 429 when the server already runs its limit of them.
    """
    checked = _checked(req, request)
    async with long_job(request, "grid"):
        return await asyncio.to_thread(_grid, checked)


@router.post("/grid/jobs")
async def grid_job(req: GridRequest, request: Request) -> dict[str, Any]:
    """Start the grid as a background job: each stage (a model embedding the corpus, each
    configuration searched) streams from ``/lab/jobs/{job}/events`` and a cancel stops it
    between stages; the ``done`` event carries what ``POST /lab/evaluate/grid`` answers."""
    checked = _checked(req, request)
    job = await start_job(
        request, "grid", f"grid on {checked.dataset}", lambda j: _grid(checked, j)
    )
    return {"job": job.id, "events": f"/lab/jobs/{job.id}/events"}


def _train_reranker(req: TrainRerankerRequest, job: Job) -> dict[str, Any]:
    from embedlab.train.pairs import pairs_from_index
    from embedlab.train.reranker import RerankerConfig, train_reranker

    job.progress(f"reading title -> text pairs from index {req.index}", 0.0)
    pairs = pairs_from_index(req.index)[: req.max_pairs]
    if len(pairs) < 10:
        raise InputError(
            f"Index {req.index!r} gives {len(pairs)} title -> text pairs; a reranker needs at "
            "least 10. Index records with a title field (JSONL or CSV with 'title'), or "
            "Markdown files with a heading."
        )
    job.progress(f"mining hard negatives for {len(pairs)} pairs", 0.02)

    def step(done: int, total: int, loss: float) -> None:
        job.progress(f"step {done} of {total}, loss {loss:.3f}", done / max(total, 1),
                     step=done, steps=total, loss=loss)  # fmt: skip

    out = trained_dir() / req.name
    r = train_reranker(pairs, out, RerankerConfig(epochs=req.epochs), progress=step)
    scores = {
        label: {"nDCG@10": sc.ndcg10, "recall@10": sc.metrics.get("recall@10"),
                "MRR": sc.metrics.get("MRR")}
        for label, sc in (("bi-encoder", r.bi_encoder), ("reranked", r.reranked))
        if sc is not None
    }  # fmt: skip
    return {
        "reranker": req.name,
        "pairs": len(pairs),
        "steps": r.steps,
        "seconds": r.seconds,
        "examples_per_second": r.examples_per_second,
        "device": r.device,
        "held_out": scores,
    }


@router.post("/rerankers/train")
async def train_reranker_job(req: TrainRerankerRequest, request: Request) -> dict[str, Any]:
    """Train a reranker named ``name`` on the chosen index's title -> text pairs as a
    background job (progress per step at ``/lab/jobs/{job}/events``, cancellable); it is
    saved in embedlab's home and offered by ``GET /lab/search/rerankers`` once done."""
    import shutil

    from embedlab.server.uploads import owned_folder
    from embedlab.stores import list_indexes

    policy = policy_of(request)
    index = policy.index(req.index)
    policy.check_value(req.name, "name")
    owned_folder(req.name)  # a plain name, or a clear refusal
    if index not in await asyncio.to_thread(list_indexes):
        from embedlab.errors import IndexNotFoundError

        raise IndexNotFoundError(f"No index named {index!r} to train a reranker on.")
    out = trained_dir() / req.name
    if out.exists():
        raise InputError(
            f"A model or reranker named {req.name!r} already exists in {trained_dir()}: "
            "choose another name."
        )
    job = await start_job(
        request,
        "train",
        f"reranker {req.name} on {index}",
        lambda j: _train_reranker(req, j),
        on_cancel=lambda: shutil.rmtree(out, ignore_errors=True),
    )
    return {"job": job.id, "events": f"/lab/jobs/{job.id}/events"}


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
