"""The word2vec stepper's API driven in-process, shared by the stepper tests."""

from __future__ import annotations

from typing import Any

import httpx

from embedlab.server.app import create_app
from tests.conftest import run_async


def advance(n: int, run: str, sentence: str, window: int, **extra: Any) -> list[dict[str, Any]]:
    """``n`` steps of run ``run`` through ``POST /lab/train/word2vec-advance``, their answers."""

    async def main() -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=create_app())
        out = []
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            for _ in range(n):
                body = {"run": run, "sentence": sentence, "window": window, **extra}
                r = await c.post("/lab/train/word2vec-advance", json=body)
                assert r.status_code == 200, r.text
                out.append(r.json())
        return out

    return run_async(main)
