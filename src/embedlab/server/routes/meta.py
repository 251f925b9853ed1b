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
    """Every catalogue model: name, description, dims, kind, installed, loaded, install hint;
    then the embedding models of the servers the operator named (kind ``remote``)."""
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
    rows += await _remote_rows(pool, loaded)
    return {"default": pool.default, "models": rows}


async def _remote_rows(pool: Any, loaded: set[str]) -> list[dict[str, Any]]:
    """The embedding models of the servers the operator named (``--ollama``/``--openai``),
    so every panel can use them; a server that is down adds none (Connect shows it down)."""
    import asyncio

    from embedlab.models.discover import probe_server

    servers = list(pool.remote_options.items())
    listings = await asyncio.gather(
        *[
            asyncio.to_thread(probe_server, proto, opts["base_url"], api_key=opts.get("api_key"))
            for proto, opts in servers
        ]
    )
    return [
        {"name": m.name, "description": f"{m.model} on {listing.url}", "dims": "",
         "kind": "remote", "languages": "", "installed": True, "loaded": m.name in loaded,
         "install": ""}
        for listing in listings
        for m in listing.models
        if m.kind == "embedding"
    ]  # fmt: skip
