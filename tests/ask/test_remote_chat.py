"""The ``ollama:`` and ``openai:`` chat backends against a tiny real HTTP server on 127.0.0.1
that speaks each protocol: streaming parsing, a stream cut off midway, errors named."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from embedlab.ask import load_chat
from embedlab.ask.remote import load_ollama_chat, load_openai_chat
from embedlab.errors import ChatStreamError, ChatUnreachableError, UnknownModelError

PIECES = ["Paris", " is the", " capital [1]."]


class Handler(BaseHTTPRequestHandler):
    """Answers /api/chat (NDJSON) and /v1/chat/completions (SSE); model 'cut' stops early,
    model 'missing' gets a 404 and model 'garbage' a line that is not JSON."""

    seen: list[dict] = []

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.seen.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        model = body["model"]
        if model == "missing":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error": "model \\"missing\\" not found, try pulling it first"}')
            return
        self.send_response(200)
        self.end_headers()
        pieces = PIECES[:2] if model == "cut" else PIECES
        for p in pieces:
            self.wfile.write(self._event(p, done=False))
            self.wfile.flush()
        if model == "garbage":
            self.wfile.write(b"data: {not json\n\n" if "v1" in self.path else b"{not json\n")
        elif model != "cut":
            self.wfile.write(self._event("", done=True))
            if "v1" in self.path:
                self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def _event(self, text: str, done: bool) -> bytes:
        if self.path == "/api/chat":
            obj = {"model": "m", "message": {"role": "assistant", "content": text}, "done": done}
            return (json.dumps(obj) + "\n").encode()
        choice = {"index": 0, "delta": {"content": text} if text else {},
                  "finish_reason": "stop" if done else None}  # fmt: skip
        return f"data: {json.dumps({'choices': [choice]})}\n\n".encode()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
def test_streams_and_replies(server: str, protocol: str) -> None:
    chat = _open(protocol, "m", server)
    assert list(chat.stream(MESSAGES, max_tokens=20)) == PIECES
    reply = chat.reply(MESSAGES, max_tokens=20)
    assert reply.text == "".join(PIECES) and reply.model == f"{protocol}:m"
    assert reply.first_token_seconds is not None and reply.finish_reason == "stop"
    sent = Handler.seen[-1]
    assert sent["body"]["messages"] == MESSAGES and sent["body"]["stream"] is True
    if protocol == "ollama":
        assert sent["path"] == "/api/chat" and sent["body"]["options"]["num_predict"] == 20
    else:
        assert sent["path"] == "/v1/chat/completions" and sent["body"]["max_tokens"] == 20
        assert sent["auth"] == "Bearer sk-test"


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
def test_cut_off_stream_keeps_what_arrived(server: str, protocol: str) -> None:
    chat = _open(protocol, "cut", server)
    got: list[str] = []
    with pytest.raises(ChatStreamError, match="cut off") as err:
        for piece in chat.stream(MESSAGES):
            got.append(piece)
    assert got == PIECES[:2] and err.value.partial == "".join(PIECES[:2])


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
def test_garbage_line_is_a_stream_error_naming_it(server: str, protocol: str) -> None:
    with pytest.raises(ChatStreamError, match="not json") as err:
        _open(protocol, "garbage", server).reply(MESSAGES)
    assert err.value.partial == "".join(PIECES)


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
def test_http_error_names_url_and_body(server: str, protocol: str) -> None:
    with pytest.raises(ChatUnreachableError, match=r"HTTP 404.*not found, try pulling") as err:
        _open(protocol, "missing", server).reply(MESSAGES)
    assert server in str(err.value)


def test_nothing_listening_names_the_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ChatUnreachableError, match=rf"{url}/api/chat.*ollama serve"):
        load_ollama_chat("m", base_url=url).reply(MESSAGES)


def test_registry_opens_prefixed_models_and_lists_names(server: str) -> None:
    chat = load_chat("ollama:m", base_url=server)
    assert chat is load_chat("ollama:m", base_url=server)  # cached per process
    assert chat.info.backend == "http (ollama)" and not chat.info.exact_tokens
    with pytest.raises(UnknownModelError, match=r"local, ollama:<model>, openai:<model>"):
        load_chat("nope")
    with pytest.raises(UnknownModelError, match="names no model"):
        load_chat("ollama:")


def _open(protocol: str, model: str, server: str):  # type: ignore[no-untyped-def]
    if protocol == "ollama":
        return load_ollama_chat(model, base_url=server)
    return load_openai_chat(model, base_url=server + "/v1", api_key="sk-test")
