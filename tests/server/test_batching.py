"""Concurrent requests for one model are merged into few encoder calls, and each caller
gets its own rows back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI

from embedlab.models import Encoder
from embedlab.server.models import ModelPool

SENTENCES = [f"Sentence number {i} is about topic {i % 7}." for i in range(32)]


def test_32_concurrent_requests_are_batched(
    app: FastAPI, call: Callable[..., Any], minilm: Encoder
) -> None:
    pool: ModelPool = app.state.pool
    before_calls, before_requests = pool.stats.encoder_calls, pool.stats.requests

    async def go(c: httpx.AsyncClient) -> list[httpx.Response]:
        reqs = [c.post("/v1/embeddings", json={"input": s}) for s in SENTENCES]
        return list(await asyncio.gather(*reqs))

    responses = call(go)
    assert [r.status_code for r in responses] == [200] * 32
    got = np.array([r.json()["data"][0]["embedding"] for r in responses], dtype=np.float32)
    # each caller got its own sentence's vector back, not a neighbour's
    np.testing.assert_allclose(got, minilm.embed(SENTENCES), atol=1e-4)
    calls = pool.stats.encoder_calls - before_calls
    assert pool.stats.requests - before_requests == 32
    assert calls <= 8, f"32 concurrent requests took {calls} encoder calls: not batched"
    assert pool.stats.max_requests_merged >= 4
    merged = {r.json()["timing"]["inference_ms"] for r in responses}
    assert len(merged) < 32  # requests of one batch share its inference time


def test_mixed_roles_and_errors_do_not_poison_a_batch(minilm: Encoder, arun: Any) -> None:
    pool = ModelPool("minilm")

    async def main() -> list[Any]:
        jobs = [
            pool.embed("minilm", "a document", "document"),
            pool.embed("minilm", "a query", "query"),
            pool.embed("minilm", "", "document"),  # fails alone
            pool.embed("minilm", ["two", "texts"], "document"),
        ]
        return list(await asyncio.gather(*jobs, return_exceptions=True))

    a, b, bad, c = arun(main)
    assert isinstance(bad, Exception) and "empty" in str(bad)
    assert a.shape == (1, 384) and b.shape == (1, 384) and c.shape == (2, 384)
    np.testing.assert_allclose(c, minilm.embed(["two", "texts"]), atol=1e-5)


def test_batching_off_encodes_each_request_alone(minilm: Encoder, arun: Any) -> None:
    pool = ModelPool("minilm", batching=False)

    async def main() -> None:
        await asyncio.gather(*[pool.embed(None, s) for s in SENTENCES[:6]])

    arun(main)
    assert pool.stats.encoder_calls == 6 and pool.stats.max_requests_merged == 1


def test_bad_requests_in_a_crowd_fail_alone(app: FastAPI, call: Callable[..., Any]) -> None:
    bodies: list[Any] = []
    for i in range(48):
        kind = i % 4
        if kind == 0:
            bodies.append({"input": ""})
        elif kind == 1:
            bodies.append({"input": "x", "model": "nope"})
        else:
            bodies.append({"input": f"good request {i}"})

    async def go(c: httpx.AsyncClient) -> list[httpx.Response]:
        return list(await asyncio.gather(*[c.post("/v1/embeddings", json=b) for b in bodies]))

    responses = call(go)
    for i, r in enumerate(responses):
        expected = {0: 400, 1: 404}.get(i % 4, 200)
        assert r.status_code == expected, (i, r.text)
        if expected != 200:
            assert r.json()["error"]["message"]


def test_a_full_queue_answers_503_and_the_server_keeps_serving(minilm: Encoder, arun: Any) -> None:
    from embedlab.server.app import create_app

    app = create_app()
    pool: ModelPool = app.state.pool
    pool.max_queued, pool.window_s = 4, 0.2  # a small queue that fills before it drains

    async def go() -> tuple[list[httpx.Response], httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", timeout=120
        ) as c:
            await c.post("/v1/embeddings", json={"input": "load the model first"})
            burst = await asyncio.gather(
                *[c.post("/v1/embeddings", json={"input": f"text {i}"}) for i in range(10)]
            )
            after = await c.post("/v1/embeddings", json={"input": "and later it serves again"})
            return list(burst), after

    burst, after = arun(go)
    codes = sorted(r.status_code for r in burst)
    assert codes == [200] * 4 + [503] * 6, codes
    busy = next(r for r in burst if r.status_code == 503).json()["error"]
    assert busy["type"] == "ServerBusyError" and "Try again" in busy["message"]
    assert after.status_code == 200 and pool.stats.rejected == 6
