"""Fixtures of the web-lab tests: an in-process app driven through httpx's ASGI transport.

ASGITransport does not run the app's lifespan, so nothing is preloaded there; the pool loads
models on first use, and the session ``minilm`` fixture has them in the process cache already.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from embedlab.models import Encoder
from embedlab.server.app import create_app
from tests.conftest import run_async

T = TypeVar("T")


@pytest.fixture()
def arun() -> Callable[..., Any]:
    """``arun(lambda: coro)``: :func:`run_async` for tests that drive the pool directly."""
    return run_async


@pytest.fixture(scope="module")
def app(minilm: Encoder) -> FastAPI:
    """A fresh app per test module (its own pool and counters); MiniLM already loaded."""
    return create_app()


@pytest.fixture()
def call(app: FastAPI) -> Callable[[Callable[[httpx.AsyncClient], Awaitable[T]]], T]:
    """Run ``fn(client)`` against the app in a fresh event loop and return its result."""

    def run(fn: Callable[[httpx.AsyncClient], Coroutine[Any, Any, T]]) -> T:
        async def main() -> T:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1", timeout=120
            ) as c:
                return await fn(c)

        return run_async(main)

    return run


@pytest.fixture()
def req(call: Callable[..., Any]) -> Callable[..., httpx.Response]:
    """``req("POST", "/v1/embeddings", json=...)`` -> the response (one request)."""

    def one(method: str, path: str, **kw: Any) -> httpx.Response:
        async def go(c: httpx.AsyncClient) -> httpx.Response:
            return await c.request(method, path, **kw)

        result: httpx.Response = call(go)
        return result

    return one
