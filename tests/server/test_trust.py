"""Who the server answers, and within which limits: the Host allow-list, the Origin check
and CORS, the API key, body/text/batch/long-job limits, and no traceback to the client.

Driven in-process through httpx's ASGI transport (the real app, middleware included); the
real uvicorn checks are in test_trust_live.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from embedlab.models import Encoder
from embedlab.server.app import create_app
from embedlab.server.config import Limits, ServerConfig
from tests.conftest import run_async

HOST = "http://127.0.0.1:8765"


def _call(app: FastAPI, fn: Callable[[httpx.AsyncClient], Coroutine[Any, Any, Any]]) -> Any:
    async def main() -> Any:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=HOST, timeout=120) as c:
            return await fn(c)

    return run_async(main)


def _one(app: FastAPI, method: str, path: str, **kw: Any) -> httpx.Response:
    async def go(c: httpx.AsyncClient) -> httpx.Response:
        return await c.request(method, path, **kw)

    result: httpx.Response = _call(app, go)
    return result


def _error(r: httpx.Response, status: int, kind: str) -> str:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["type"] == kind, error
    message: str = error["message"]
    return message


# --- Host --------------------------------------------------------------------------------


def test_other_hosts_are_refused_loopback_names_answered() -> None:
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1 sends
    ``Host: evil.example``; the server must not answer it."""
    app = create_app()
    for host in ("evil.example", "evil.example:8765", "127.0.0.1.evil.example", ""):
        message = _error(_one(app, "GET", "/health", headers={"host": host}), 403, "HostNotAllowed")
        assert "--allow-host" in message
    for host in ("127.0.0.1:8765", "localhost", "localhost:1", "[::1]:8765", "127.0.0.1"):
        assert _one(app, "GET", "/health", headers={"host": host}).status_code == 200, host


def test_allow_host_and_the_bound_address() -> None:
    app = create_app(
        config=ServerConfig(host="192.168.1.7", allow_hosts=("lab.home",), api_key="k")
    )
    auth = {"authorization": "Bearer k"}
    for host in ("lab.home:8765", "LAB.home", "192.168.1.7:8765"):
        assert _one(app, "GET", "/health", headers={"host": host, **auth}).status_code == 200
    r = _one(app, "GET", "/health", headers={"host": "other.home", **auth})
    _error(r, 403, "HostNotAllowed")
    # bound to every interface: any IP address is fine (rebinding needs a name), names are not
    app = create_app(config=ServerConfig(host="0.0.0.0", api_key="k"))
    assert _one(app, "GET", "/health", headers={"host": "10.0.0.5:8765", **auth}).status_code == 200
    _error(
        _one(app, "GET", "/health", headers={"host": "evil.example", **auth}), 403, "HostNotAllowed"
    )


# --- Origin and CORS ---------------------------------------------------------------------


def test_cross_site_posts_are_refused_same_origin_ones_answered(minilm: Encoder) -> None:
    app = create_app()
    body = {"a": "a cat", "b": "a dog"}
    r = _one(app, "POST", "/lab/similarity", json=body, headers={"origin": "http://evil.example"})
    assert "--allow-origin" in _error(r, 403, "OriginNotAllowed")
    r = _one(app, "POST", "/lab/similarity", json=body, headers={"origin": "null"})
    _error(r, 403, "OriginNotAllowed")
    # the lab's own pages: Origin is the server's own origin
    r = _one(app, "POST", "/lab/similarity", json=body, headers={"origin": HOST})
    assert r.status_code == 200, r.text
    # no CORS grant by default: a foreign GET is answered without the header (the browser
    # keeps the answer from the page), a foreign preflight is refused
    r = _one(app, "GET", "/health", headers={"origin": "http://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    pre = {"origin": "http://evil.example", "access-control-request-method": "POST"}
    _error(_one(app, "OPTIONS", "/v1/embeddings", headers=pre), 403, "OriginNotAllowed")


def test_allow_origin_grants_cors_to_that_origin_only(minilm: Encoder) -> None:
    app = create_app(config=ServerConfig(allow_origins=("https://app.example",)))
    pre = {
        "origin": "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }
    r = _one(app, "OPTIONS", "/v1/embeddings", headers=pre)
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "authorization" in r.headers["access-control-allow-headers"]
    r = _one(
        app,
        "POST",
        "/v1/embeddings",
        json={"input": "hi"},
        headers={"origin": "https://app.example"},
    )
    assert (
        r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://app.example"
    )
    r = _one(
        app, "POST", "/v1/embeddings", json={"input": "hi"}, headers={"origin": "https://x.example"}
    )
    _error(r, 403, "OriginNotAllowed")


# --- API key -----------------------------------------------------------------------------


def test_beyond_loopback_a_key_is_required_and_generated() -> None:
    app = create_app(config=ServerConfig(host="0.0.0.0"))
    key = app.state.config.api_key
    assert key and len(key) >= 24  # generated, as Jupyter does
    h = {"host": "10.0.0.5:8765"}
    message = _error(_one(app, "GET", "/health", headers=h), 401, "Unauthorized")
    assert "Authorization: Bearer" in message and "?token=" in message
    r = _one(app, "GET", "/health", headers={**h, "authorization": "Bearer wrong"})
    _error(r, 401, "Unauthorized")
    r = _one(app, "GET", "/health", headers={**h, "authorization": f"Bearer {key}"})
    assert r.status_code == 200
    # a loopback server needs none, unless the operator gives one
    assert create_app().state.config.api_key is None
    assert ServerConfig(host="0.0.0.0").with_key().api_key
    assert ServerConfig(host="127.0.0.1").url() == "http://127.0.0.1:8765/"


def test_the_printed_url_sets_a_cookie_the_pages_then_use(minilm: Encoder) -> None:
    """The pages call the API with fetch (no Authorization header): ``?token=`` from the
    printed URL sets an HttpOnly cookie, then every same-origin call carries it."""
    app = create_app(config=ServerConfig(api_key="s3cret"))
    assert app.state.config.url().endswith("/?token=s3cret")

    async def flow(c: httpx.AsyncClient) -> None:
        assert (await c.get("/")).status_code == 401
        r = await c.get("/?token=s3cret&x=1")
        assert r.status_code == 303 and r.headers["location"] == "/?x=1"
        cookie = r.headers["set-cookie"]
        assert "embedlab_token=s3cret" in cookie and "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        page = await c.get("/")  # httpx kept the cookie, as a browser does
        assert page.status_code == 200 and "<html" in page.text.lower()
        r = await c.post("/lab/similarity", json={"a": "x", "b": "y"}, headers={"origin": HOST})
        assert r.status_code == 200, r.text
        c.cookies.clear()
        assert (await c.get("/lab/models")).status_code == 401
        assert (await c.get("/?token=nope")).status_code == 401

    _call(app, flow)


# --- limits ------------------------------------------------------------------------------


async def _chunks(parts: list[bytes], pause: asyncio.Event | None = None) -> AsyncIterator[bytes]:
    for i, part in enumerate(parts):
        if pause is not None and i == 1:
            await pause.wait()
        yield part


def test_a_chunked_body_over_the_limit_is_refused() -> None:
    """No Content-Length (a chunked body): the limit still holds, counted while reading."""
    app = create_app(config=ServerConfig(limits=Limits(max_body_bytes=1000)))

    async def go(c: httpx.AsyncClient) -> httpx.Response:
        parts = [b'{"input": "', b"x" * 600, b"x" * 600, b'"}']
        return await c.post("/v1/embeddings", content=_chunks(parts))

    r: httpx.Response = _call(app, go)
    message = _error(r, 413, "PayloadTooLarge")
    assert "1000" in message and "EMBEDLAB_MAX_BODY_BYTES" in message


def test_text_length_batch_and_map_limits_name_the_limit(minilm: Encoder) -> None:
    limits = Limits(max_text_chars=50, max_batch=4, max_map_texts=3)
    app = create_app(config=ServerConfig(limits=limits))
    r = _one(app, "POST", "/lab/similarity", json={"a": "y" * 51, "b": "short"})
    assert "EMBEDLAB_MAX_TEXT_CHARS" in _error(r, 413, "TextTooLongError")
    r = _one(app, "POST", "/v1/embeddings", json={"input": ["a"] * 5})
    assert "at most 4" in _error(r, 413, "BatchTooLargeError")
    r = _one(
        app, "POST", "/lab/analogy", json={"a": "a", "b": "b", "c": "c", "candidates": ["x"] * 5}
    )
    _error(r, 413, "BatchTooLargeError")
    r = _one(app, "POST", "/lab/maps", json={"texts": ["one", "two", "three", "four"]})
    assert "EMBEDLAB_MAX_MAP_TEXTS" in _error(r, 413, "BatchTooLargeError")


def test_long_jobs_beyond_the_slots_get_a_429(minilm: Encoder) -> None:
    app = create_app(config=ServerConfig(limits=Limits(max_long_jobs=1)))
    app.state.jobs.running["grid"] = 1  # one long job holds the only slot
    r = _one(app, "POST", "/lab/maps", json={"texts": ["a b", "c d", "e f"], "method": "pca"})
    assert "EMBEDLAB_MAX_LONG_JOBS" in _error(r, 429, "TooManyJobsError")
    r = _one(app, "POST", "/lab/evaluate/grid", json={"dataset": "news-200", "models": ["minilm"]})
    _error(r, 429, "TooManyJobsError")
    app.state.jobs.running["grid"] = 0
    assert app.state.jobs.busy() == 0


def test_a_slow_client_holds_no_model_and_times_out(minilm: Encoder) -> None:
    """The body is read whole before any route runs: while a client dribbles its body, the
    pool has not been asked for anything and other requests are served."""
    app = create_app(config=ServerConfig(limits=Limits(body_timeout_s=1.0)))
    pool = app.state.pool

    async def flow(c: httpx.AsyncClient) -> tuple[int, int, int, httpx.Response]:
        release = asyncio.Event()
        parts = [b'{"input": "slow', b' client"}']
        slow = asyncio.create_task(c.post("/v1/embeddings", content=_chunks(parts, release)))
        await asyncio.sleep(0.3)
        before = pool.stats.requests
        quick = await c.post("/v1/embeddings", json={"input": "quick"})
        during = pool.stats.requests
        release.set()
        return before, during, quick.status_code, await slow

    before, during, quick, slow = _call(app, flow)
    assert before == 0 and during == 1 and quick == 200  # only the quick one reached the pool
    assert slow.status_code == 200

    async def stalled(c: httpx.AsyncClient) -> httpx.Response:
        never = asyncio.Event()
        return await c.post("/v1/embeddings", content=_chunks([b'{"input": "x', b'"}'], never))

    r: httpx.Response = _call(app, stalled)
    assert "within 1 s" in _error(r, 408, "RequestTimeout")


# --- no tracebacks -----------------------------------------------------------------------


def test_unexpected_errors_are_one_line_without_internals(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from embedlab.server.routes import meta

    def boom(_: Any) -> bool:
        raise RuntimeError("internal detail at /srv/secret/path.py line 12")

    monkeypatch.setattr(meta, "is_installed", boom)
    with caplog.at_level(logging.ERROR, logger="embedlab.server"):
        r = _one(create_app(), "GET", "/lab/models")
    message = _error(r, 500, "InternalError")
    assert "\n" not in message and "GET /lab/models" in message and "log" in message
    assert "secret" not in r.text and "RuntimeError" not in r.text and "Traceback" not in r.text
    logged = "\n".join(rec.getMessage() + str(rec.exc_info) for rec in caplog.records)
    assert "RuntimeError" in logged  # the traceback went to the server's log
