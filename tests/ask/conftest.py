"""Fixtures of the ask tests: a tiny real chat server speaking Ollama's and OpenAI's streaming
protocols on 127.0.0.1, so the pipeline and the CLI run end to end without the local model."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from embedlab.models import Encoder

try:  # the demo index's builder is moving from embedlab.data to embedlab.demo
    from embedlab.demo import ensure_demo_index
except ImportError:  # pragma: no cover - before the move
    from embedlab.data import ensure_demo_index  # type: ignore[attr-defined,no-redef]

PIECES = ["Paris", " is the", " capital [1]."]
#: answers by model name: "grounded" repeats the demo's space-station document and cites it,
#: "uncited" says the same without a citation.
GROUNDED = "Astronauts on the space station exercise two hours a day to slow bone loss [1]."
ANSWERS = {
    "m": PIECES,
    "grounded": [GROUNDED[:30], GROUNDED[30:]],
    "uncited": ["Astronauts exercise two hours a day.", " Paris is nice [1]."],
}


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
        pieces = ANSWERS.get(model, PIECES)[:2] if model == "cut" else ANSWERS.get(model, PIECES)
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


@pytest.fixture(scope="session")
def chat_server() -> Iterator[str]:
    """A real HTTP chat server on a free loopback port (both protocols); yields its URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def demo(minilm: Encoder) -> str:
    """The demo index (51 short documents, MiniLM), built once; yields its name."""
    ensure_demo_index(minilm)
    return "demo"
