"""The Host allow-list and the API key against a real uvicorn on loopback, with real
sockets and the official ``openai`` client (which sends ``Authorization: Bearer``)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from embedlab.models import Encoder
from embedlab.server.app import create_app
from embedlab.server.config import ServerConfig

KEY = "live-test-key"


@pytest.fixture(scope="module")
def keyed_server(minilm: Encoder) -> Iterator[str]:
    """A real uvicorn serving a keyed app on a free loopback port."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(config=ServerConfig(port=port, api_key=KEY))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 120
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the keyed test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_rebound_host_name_is_refused_over_a_real_socket(keyed_server: str) -> None:
    auth = {"authorization": f"Bearer {KEY}"}
    r = httpx.get(f"{keyed_server}/health", headers={**auth, "host": "attacker.example"})
    assert r.status_code == 403 and r.json()["error"]["type"] == "HostNotAllowed"
    port = keyed_server.rsplit(":", 1)[1]
    r = httpx.get(f"{keyed_server}/health", headers={**auth, "host": f"localhost:{port}"})
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_the_openai_client_sends_the_key(keyed_server: str, minilm: Encoder) -> None:
    import openai

    client = openai.OpenAI(base_url=f"{keyed_server}/v1", api_key=KEY, max_retries=0)
    got = client.embeddings.create(model="minilm", input=["a cat", "a dog"])
    vecs = np.array([d.embedding for d in got.data], dtype=np.float32)
    np.testing.assert_allclose(vecs, minilm.embed(["a cat", "a dog"]), atol=1e-5)
    wrong = openai.OpenAI(base_url=f"{keyed_server}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.embeddings.create(model="minilm", input="a cat")
    # the printed URL sets the cookie the pages then use
    with httpx.Client(base_url=keyed_server, follow_redirects=True) as browser:
        assert browser.get("/lab/models").status_code == 401
        assert browser.get(f"/?token={KEY}").status_code == 200  # redirected, cookie kept
        assert browser.get("/lab/models").status_code == 200
