"""The word2vec stepper routes refuse a seed numpy cannot take with a 422 naming the field
(schemathesis found a 500 for ``seed: -1`` on ``/lab/train/word2vec-advance``)."""

from __future__ import annotations

import httpx
import pytest

from embedlab.server.app import create_app
from tests.conftest import run_async


@pytest.mark.parametrize("route", ["word2vec-step", "word2vec-advance"])
def test_negative_seed_is_a_422_naming_the_field(route: str) -> None:
    body = {"run": "r1", "sentence": "the cat sat on the mat", "seed": -1}

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.post(f"/lab/train/{route}", json=body)

    response = run_async(call)
    assert response.status_code == 422, response.text
    assert "seed" in response.json()["error"]["message"]
