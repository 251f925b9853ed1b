"""Health and the model catalogue as the lab's pages see it (installed? loaded?)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from embedlab.models.registry import CATALOGUE, is_installed
from embedlab.server.models import get_pool

router = APIRouter(tags=["lab"])


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Liveness, the default model, loaded models and the batching counters."""
    return {"status": "ok", **get_pool(request).describe()}


@router.get("/lab/models")
async def lab_models(request: Request) -> dict[str, Any]:
    """Every catalogue model: name, description, dims, kind, installed, loaded, install hint."""
    pool = get_pool(request)
    loaded = set(pool.loaded())
    rows = [
        {
            "name": s.name,
            "description": s.description,
            "dims": s.dims,
            "kind": s.kind,
            "languages": s.languages,
            "installed": is_installed(s),
            "loaded": s.name in loaded,
            "install": s.install,
        }
        for s in CATALOGUE
    ]
    return {"default": pool.default, "models": rows}
