"""The chat endpoints' answers that need no generation: errors in each protocol's own shape,
the model lists, and the Connect listing (a server that is down is shown as down).

In-process through httpx's ASGI transport; the generation tests are in test_chat_clients.py.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from embedlab.models import Encoder

Q = [{"role": "user", "content": "How long should rice simmer?"}]


@pytest.fixture(scope="module")
def demo(minilm: Encoder) -> str:
    from embedlab.demo import ensure_demo_index

    return ensure_demo_index(minilm).name


def _ollama_error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["error"], str)  # Ollama's shape: {"error": "message"}
    return str(body["error"])


def _openai_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err: dict[str, Any] = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}  # OpenAI's shape
    return err


def test_unknown_rag_index_is_a_404_listing_indexes(
    req: Callable[..., httpx.Response], demo: str
) -> None:
    body = {"model": "rag:no-such-index", "messages": Q}
    msg = _ollama_error(req("POST", "/api/chat", json=body), 404)
    assert "'no-such-index'" in msg and f"rag:{demo}" in msg
    err = _openai_error(req("POST", "/v1/chat/completions", json=body), 404)
    assert err["code"] == "model_not_found" and f"rag:{demo}" in err["message"]


def test_bad_requests_answer_in_each_protocols_shape(
    req: Callable[..., httpx.Response], demo: str
) -> None:
    empty = {"model": f"rag:{demo}", "messages": [{"role": "user", "content": "  "}]}
    assert "empty" in _ollama_error(req("POST", "/api/chat", json=empty), 400)
    assert "empty" in _openai_error(req("POST", "/v1/chat/completions", json=empty), 400)["message"]
    none = {"model": f"rag:{demo}", "messages": []}
    assert "empty" in _ollama_error(req("POST", "/api/chat", json=none), 400)
    shape = {"model": "local", "messages": "not a list"}
    assert "messages" in _ollama_error(req("POST", "/api/chat", json=shape), 400)
    err = _openai_error(req("POST", "/v1/chat/completions", json=shape), 400)
    assert "messages" in err["message"]
    unknown = {"model": "no-such-chat-model", "messages": Q}
    assert "local" in _ollama_error(req("POST", "/api/chat", json=unknown), 404)
    assert (
        "local" in _openai_error(req("POST", "/v1/chat/completions", json=unknown), 404)["message"]
    )


def test_requests_never_name_a_server(req: Callable[..., httpx.Response]) -> None:
    """``openai:`` needs a server the operator configured; a path is refused outright."""
    r = req("POST", "/v1/chat/completions", json={"model": "openai:gpt-4o", "messages": Q})
    assert r.status_code == 403 and "--openai" in r.json()["error"]["message"]
    r = req("POST", "/api/chat", json={"model": "st:/etc/passwd", "messages": Q})
    assert r.status_code == 403


def test_model_lists_name_the_chat_models(req: Callable[..., httpx.Response], demo: str) -> None:
    tags = [m["name"] for m in req("GET", "/api/tags").json()["models"]]
    assert {"minilm", "local", f"rag:{demo}"} <= set(tags)
    rows = req("GET", "/v1/models").json()["data"]
    kinds = {m["id"]: m.get("kind") for m in rows}
    assert kinds["minilm"] == "embedding"
    assert kinds["local"] == "chat" and kinds[f"rag:{demo}"] == "chat"


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


def test_connect_shows_a_down_server_as_down(live_server: str, minilm: Encoder, demo: str) -> None:
    from embedlab.server.app import create_app
    from embedlab.server.config import ServerConfig
    from tests.conftest import run_async

    dead = f"http://127.0.0.1:{_dead_port()}"
    app = create_app(config=ServerConfig(ollama=dead, openai=(f"{live_server}/v1",)))

    async def go() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            listing = (await c.get("/lab/connect")).json()
            options = (await c.get("/lab/ask/options")).json()
            return {"connect": listing, "options": options}

    got = run_async(go)
    ollama, openai = got["connect"]["servers"]
    assert ollama["protocol"] == "ollama" and ollama["url"] == dead and not ollama["up"]
    assert dead in ollama["error"] and ollama["models"] == []
    assert openai["up"] and openai["url"] == f"{live_server}/v1"
    kinds = {m["name"]: m["kind"] for m in openai["models"]}
    assert kinds["openai:minilm"] == "embedding" and kinds[f"openai:rag:{demo}"] == "chat"
    chat_names = [m["name"] for m in got["options"]["chat"]]
    assert "local" in chat_names and f"openai:rag:{demo}" in chat_names  # the page offers them
    assert [s["up"] for s in got["options"]["servers"]] == [False, True]


def test_configured_servers_embed_in_every_panel(live_server: str, minilm: Encoder) -> None:
    """With ``--openai URL`` the server's embedding models are listed for the panels and
    embed through it (here: this lab's own server, so the vectors are MiniLM's); without
    it, the same name is refused."""
    import numpy as np

    from embedlab.server.app import create_app
    from embedlab.server.config import ServerConfig
    from tests.conftest import run_async

    app = create_app(config=ServerConfig(openai=(f"{live_server}/v1",)))
    plain = create_app()
    texts = ["A cat sat on the mat.", "Stocks fell sharply."]

    async def go() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, a in (("configured", app), ("plain", plain)):
            transport = httpx.ASGITransport(app=a)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1", timeout=120
            ) as c:
                rows = (await c.get("/lab/models")).json()["models"]
                r = await c.post("/lab/embed", json={"texts": texts, "model": "openai:minilm"})
                out[key] = (rows, r)
        return out

    got = run_async(go)
    rows, r = got["configured"]
    assert {"name": "openai:minilm", "kind": "remote"}.items() <= next(
        m for m in rows if m["name"] == "openai:minilm"
    ).items()
    assert r.status_code == 200, r.text
    vectors = np.array([item["vector"] for item in r.json()["items"]], dtype=np.float32)
    np.testing.assert_allclose(vectors, minilm.embed(texts), atol=1e-5)
    rows, r = got["plain"]
    assert r.status_code == 403 and all(m["kind"] != "remote" for m in rows)
