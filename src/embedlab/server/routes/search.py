"""The Search page's API: list indexes, search with the stages chosen, and measure the
storage and query time of each dims/quantization choice on an index.

The query is embedded through the shared batching model pool; the search itself runs in a
worker thread (:func:`embedlab.search.pipeline.search`, fingerprint checked there).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.explore.inspect import truncation_notes
from embedlab.search.costs import costs_note, measure_costs
from embedlab.search.pipeline import search
from embedlab.search.rerank import RERANK_CANDIDATES
from embedlab.search.retrieve import check_candidates
from embedlab.server.access import policy_of
from embedlab.server.models import get_pool
from embedlab.server.routes.lab import fig_json
from embedlab.stores.cache import cached_dense

router = APIRouter(prefix="/lab/search", tags=["search"])


class SearchBody(BaseModel):
    """One query against one index, with the stages to run."""

    index: str = Field(..., description="Name of a stored index.")
    query: str = Field(..., description="What to look for.")
    k: int = Field(10, ge=1, le=200)
    mode: str = Field("hybrid", description="dense, bm25 or hybrid.")
    rerank: str | None = Field(
        None,
        description="A trained reranker's name (in embedlab's home/models) or one the server "
        "was started with (--rerankers); never a path.",
    )
    rerank_candidates: int = Field(RERANK_CANDIDATES, ge=1, le=500)
    dims: int | None = Field(None, ge=1, description="Matryoshka first stage dims.")
    quantize: str | None = Field(None, description="int8 or binary first stage.")
    candidates: int | None = Field(
        None,
        description="Rescoring depth: first-stage rows rescored with the float vectors (at "
        "least k; needs dims or quantize; null: the stage's default). The depth used is in "
        "result.settings.rescore_depth.",
    )
    filters: list[str] = Field(default_factory=list, description="field=value items.")


class CostsBody(BaseModel):
    """Which index to measure, with which query."""

    index: str
    query: str = Field("example query", description="The query the timings use.")
    k: int = Field(10, ge=1, le=100)


@router.get("/indexes")
def indexes() -> dict[str, Any]:
    """Every stored index with its model, size and generation."""
    from embedlab.stores import list_indexes, open_index

    out = []
    for name in list_indexes():
        stats = open_index(name).stats()
        out.append(
            {"name": name, "model": stats.model, "dims": stats.dims, "chunks": stats.chunks,
             "files": stats.documents, "generation": stats.generation}
        )  # fmt: skip
    return {"indexes": out}


async def _query_vector(
    request: Request, index: Any, query: str, timings: dict[str, float] | None = None
) -> tuple[Any, Any]:
    """The index's model and the query's vector; seconds spent loading the model and
    embedding go into ``timings`` (as ``model`` and ``embed``)."""
    pool = get_pool(request)
    spent = timings if timings is not None else {}
    t = time.perf_counter()
    encoder, _ = await pool.encoder(index.model_name, trusted=True)  # the index's own model
    spent["model"] = time.perf_counter() - t
    if not query.strip():
        return encoder, None
    t = time.perf_counter()
    vectors = await pool.embed(index.model_name, [query], "query", trusted=True)
    spent["embed"] = time.perf_counter() - t
    return encoder, vectors[0]


@router.get("/rerankers")
async def rerankers(request: Request) -> dict[str, Any]:
    """The rerankers a search may name on this machine: the operator's, then those trained
    in embedlab's home; a note saying so plainly when there is none."""
    from embedlab.models.discover import list_rerankers, rerankers_note
    from embedlab.server.access import trained_dir

    config = getattr(request.app.state, "config", None)
    operator = list(getattr(config, "rerankers", ()) or ())
    names = operator + await asyncio.to_thread(list_rerankers, trained_dir())
    return {"rerankers": names, "note": rerankers_note(names, trained_dir())}


@router.post("")
async def run_search(body: SearchBody, request: Request) -> dict[str, Any]:
    """Search ``body.index``; returns the traced result and the rank-movement figure."""
    from embedlab.figures.search import rank_movement_figure
    from embedlab.stores import open_index

    # a bad rescoring depth is refused before an index opens or a model loads
    check_candidates(body.candidates, body.k, body.dims, body.quantize or None)
    policy = policy_of(request)
    reranker = policy.reranker(body.rerank)  # refused before anything is opened
    t = time.perf_counter()
    index = await asyncio.to_thread(open_index, policy.index(body.index))
    prior = {"open": time.perf_counter() - t}  # every timing shown includes what it names
    encoder, qv = (None, None)
    if body.mode != "bm25":
        encoder, qv = await _query_vector(request, index, body.query, prior)

    def run() -> Any:
        return search(
            index, body.query, encoder=encoder, query_vector=qv, k=body.k, mode=body.mode,
            rerank=reranker, rerank_candidates=body.rerank_candidates,
            dims=body.dims, quantize=body.quantize or None, filters=body.filters or None,
            prior=prior, candidates=body.candidates,
        )  # fmt: skip

    result = await asyncio.to_thread(run)
    figure = fig_json(rank_movement_figure(result))
    cut = truncation_notes(encoder, [body.query], "query") if encoder is not None else []
    return {"result": result.to_dict(), "figure": figure, "truncated": cut}


@router.post("/costs")
async def costs(body: CostsBody, request: Request) -> dict[str, Any]:
    """Bytes per vector and measured p50 query time for each dims/quantization choice."""
    from embedlab.errors import EmptyInputError
    from embedlab.figures.search import costs_figure
    from embedlab.stores import open_index

    if not body.query.strip():
        raise EmptyInputError("The query is empty: the timings need one to run.")
    index = await asyncio.to_thread(open_index, policy_of(request).index(body.index))
    encoder, qv = await _query_vector(request, index, body.query)
    index.check_model(encoder)

    def run() -> Any:
        return measure_costs(cached_dense(index, index.generation), qv, k=body.k)

    rows = await asyncio.to_thread(run)
    return {
        "index": body.index,
        "chunks": len(index),
        "note": costs_note(len(index), body.k),
        "rows": [r.to_dict() for r in rows],
        "figure": fig_json(costs_figure(rows)),
    }
