"""Ollama and OpenAI-compatible backends against a real HTTP server on loopback.

The server below answers in the documented shapes (Ollama ``POST /api/embed``, OpenAI
``POST /v1/embeddings``) with vectors from the real minilm; the official ``openai`` and
``ollama`` client libraries read its answers too, which checks the shapes themselves.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from embedlab.errors import RemoteModelError
from embedlab.models import Encoder, load_model
from embedlab.models.remote import load_ollama, load_openai, ollama_base_url

API_KEY = "sk-test-key"


class _Handler(BaseHTTPRequestHandler):
    encoder: Encoder
    log: list[dict[str, Any]]

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: object) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header(
            "Content-Type", "application/json" if not isinstance(body, str) else "text/plain"
        )
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.loads(raw)
        self.log.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if self.path == "/broken/api/embed":
            return self._send(500, "internal boom: model crashed")
        if self.path == "/wrong/api/embed":
            return self._send(200, {"vectors": [[0.1, 0.2]]})
        if body["model"] == "missing":
            return self._send(404, {"error": 'model "missing" not found, try pulling it first'})
        vectors = self.encoder.embed(texts).tolist()
        if self.path == "/api/embed":
            return self._send(200, {"model": body["model"], "embeddings": vectors})
        if self.path == "/v1/embeddings":
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                return self._send(401, {"error": {"message": "Incorrect API key provided"}})
            data = [
                {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
            ]
            return self._send(
                200,
                {
                    "object": "list",
                    "data": data[::-1],  # out of order on purpose: clients sort by index
                    "model": body["model"],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                },
            )
        return self._send(404, {"error": f"no route {self.path}"})


@pytest.fixture(scope="module")
def server(minilm: Encoder) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server on a free loopback port; yields (base URL, request log)."""
    log: list[dict[str, Any]] = []
    handler = type("Handler", (_Handler,), {"encoder": minilm, "log": log})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", log
    httpd.shutdown()
    httpd.server_close()


TEXTS = ["I love this movie", "The cat sat on the mat", "Stocks fell on Tuesday"]


def test_ollama_backend(server: tuple[str, list[dict[str, Any]]], minilm: Encoder) -> None:
    base, log = server
    enc = load_ollama("all-minilm", base_url=base)
    assert enc.info.dims == 384 and enc.info.normalized and enc.info.name == "ollama:all-minilm"
    log.clear()
    enc.batch_size = 2
    v = enc.embed(TEXTS)
    assert v.dtype == np.float32 and v.shape == (3, 384)
    assert np.allclose(v, minilm.embed(TEXTS), atol=1e-5)
    assert [r["path"] for r in log] == ["/api/embed", "/api/embed"]  # batches of 2 + 1
    assert log[0]["body"] == {"model": "all-minilm", "input": TEXTS[:2]}


def test_ollama_host_variable_and_registry(
    server: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = server
    monkeypatch.setenv(
        "OLLAMA_HOST", base.removeprefix("http://")
    )  # bare host:port, as Ollama allows
    enc = load_model("ollama:all-minilm-env")
    assert enc.info.extra["url"] == base + "/api/embed"
    assert ollama_base_url("localhost") == "http://localhost:11434"
    monkeypatch.delenv("OLLAMA_HOST")
    assert ollama_base_url() == "http://127.0.0.1:11434"


def test_openai_backend(
    server: tuple[str, list[dict[str, Any]]], minilm: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, log = server
    monkeypatch.setenv("OPENAI_BASE_URL", base + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    enc = load_model("openai:text-embedding-minilm")
    log.clear()
    v = enc.embed(TEXTS, role="query")
    assert v.shape == (3, 384) and np.allclose(v, minilm.embed(TEXTS), atol=1e-5)  # order restored
    assert log[0]["auth"] == f"Bearer {API_KEY}"
    assert log[0]["body"] == {"model": "text-embedding-minilm", "input": TEXTS}


def test_official_clients_read_the_test_server(server: tuple[str, list[dict[str, Any]]]) -> None:
    """The shapes the test server speaks are the ones the official clients expect."""
    import ollama  # dev extra: required, never skipped
    import openai

    base, _ = server
    got = openai.OpenAI(base_url=base + "/v1", api_key=API_KEY).embeddings.create(
        model="m", input=["hello"]
    )
    assert len(got.data[0].embedding) == 384
    assert len(ollama.Client(host=base).embed(model="m", input=["hello"]).embeddings[0]) == 384


def test_wrong_key_and_missing_model(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, _ = server
    with pytest.raises(
        RemoteModelError,
        match=rf"{base}/v1/embeddings answered HTTP 401.*Incorrect API key.*API key",
    ):
        load_openai("m", base_url=base + "/v1", api_key="sk-wrong")
    with pytest.raises(RemoteModelError, match=rf"{base}/api/embed answered HTTP 404.*not found"):
        load_ollama("missing", base_url=base)


def test_server_error_and_wrong_shape(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, _ = server
    with pytest.raises(
        RemoteModelError, match=rf"{base}/broken/api/embed answered HTTP 500.*internal boom"
    ):
        load_ollama("m", base_url=base + "/broken")
    with pytest.raises(
        RemoteModelError, match=rf"{base}/wrong/api/embed answered HTTP 200 in a shape.*vectors"
    ):
        load_ollama("m", base_url=base + "/wrong")


def test_unreachable_server() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(RemoteModelError, match=rf"{url}/api/embed.*Is the server running\?"):
        load_ollama("m", base_url=url, timeout=5)
    with pytest.raises(RemoteModelError, match=rf"{url}/v1/embeddings.*Is the server running\?"):
        load_openai("m", base_url=url + "/v1", api_key="k", timeout=5)
