"""embedlab as a RAG endpoint: the official ``ollama`` and ``openai`` clients chat with
``rag:demo`` on a real uvicorn on loopback, streaming and not, and get the sources; the
project's own ``ollama:`` and ``openai:`` chat backends work against the same server; and
the server keeps answering while an answer streams.

The local chat model (SmolLM2-135M) is loaded once per session (the registry's process
cache, shared with the server running in this process); answers are kept short.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from embedlab.models import Encoder

QUESTION = "How long should rice simmer on the lowest heat?"
MESSAGES = [{"role": "user", "content": QUESTION}]
SHORT = 24  # answer tokens: enough to see an answer, quick on two busy cores
TINY = 8  # for the repeats: greedy decoding makes them prefixes of the SHORT answer


@pytest.fixture(scope="module")
def demo(minilm: Encoder) -> str:
    from embedlab.demo import ensure_demo_index

    return ensure_demo_index(minilm).name


@pytest.fixture(scope="module")
def local_chat() -> Any:
    from embedlab.ask import load_chat

    return load_chat("local")  # cached per process: the live server uses this copy


def _answer_part(content: str) -> str:
    return content[: content.index("\n\nSources:")]


def _check_sources(sources: list[dict[str, Any]], content: str) -> None:
    assert sources and [s["number"] for s in sources] == list(range(1, len(sources) + 1))
    rice = next(s for s in sources if "rice" in s["title"].lower())  # the document that answers
    assert "fifteen minutes" in rice["text"]
    tail = content[content.index("Sources:") :]
    for s in sources:  # every source is also appended to the answer's text
        assert f"[{s['number']}] {s['title']}" in tail


def test_ollama_client_chats_with_an_index(live_server: str, demo: str, local_chat: Any) -> None:
    import ollama

    client = ollama.Client(host=live_server)
    options = {"num_predict": SHORT}
    resp = client.chat(model=f"rag:{demo}", messages=MESSAGES, options=options)
    assert resp.done and resp.message.role == "assistant" and resp.eval_count
    answer = resp.message.content or ""
    assert "Sources:" in answer and answer.index("Sources:") > 0  # an answer, then sources
    tiny = {"num_predict": TINY}
    parts = list(client.chat(model=f"rag:{demo}", messages=MESSAGES, options=tiny, stream=True))
    assert len(parts) > 3 and parts[-1].done and not any(p.done for p in parts[:-1])
    streamed = "".join(p.message.content or "" for p in parts)
    assert answer.startswith(_answer_part(streamed))  # greedy: the same words, fewer
    # the `sources` field (the client's model drops unknown fields: read the raw lines)
    body = {"model": f"rag:{demo}", "messages": MESSAGES, "options": tiny}
    with httpx.stream("POST", f"{live_server}/api/chat", json=body, timeout=300) as r:
        assert r.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in r.iter_lines() if line]
    assert lines[-1]["done"] and lines[-1]["model"] == f"rag:{demo}"
    _check_sources(lines[-1]["sources"], answer)
    assert "".join(line.get("message", {}).get("content", "") for line in lines) == streamed


def test_openai_client_chats_with_an_index(live_server: str, demo: str, local_chat: Any) -> None:
    from openai import NotFoundError, OpenAI

    client = OpenAI(base_url=f"{live_server}/v1", api_key="not-needed", max_retries=0)
    resp = client.chat.completions.create(
        model=f"rag:{demo}",
        messages=MESSAGES,
        max_tokens=SHORT,  # type: ignore[arg-type]
    )
    answer = resp.choices[0].message.content or ""
    assert resp.choices[0].finish_reason in ("stop", "length")
    assert resp.usage and resp.usage.prompt_tokens > 50 and resp.usage.completion_tokens > 0
    _check_sources((resp.model_extra or {})["sources"], answer)
    stream = client.chat.completions.create(
        model=f"rag:{demo}", messages=MESSAGES, max_tokens=TINY, stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert answer.startswith(_answer_part(text)) and sum(1 for c in chunks if c.choices) > 3
    last = [c for c in chunks if c.choices][-1]
    assert last.choices[0].finish_reason is not None
    _check_sources((last.model_extra or {})["sources"], text)
    assert chunks[-1].usage and chunks[-1].usage.total_tokens > 0
    with pytest.raises(NotFoundError, match="Indexes: .*rag:"):
        client.chat.completions.create(model="rag:no-such-index", messages=MESSAGES)  # type: ignore[arg-type]


def test_chat_backends_against_the_lab(
    live_server: str, local_chat: Any, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core's ``ollama:`` and ``openai:`` backends, pointed at this server by the usual
    variables, reach the local model (plain chat) and an index (``rag:``) through it."""
    from embedlab.ask import load_chat

    monkeypatch.setenv("OLLAMA_HOST", live_server)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{live_server}/v1")
    direct = local_chat.chat(MESSAGES, max_tokens=TINY)
    assert direct.text.strip()
    via_ollama = load_chat("ollama:local").chat(MESSAGES, max_tokens=TINY)
    assert via_ollama.text == direct.text  # greedy decoding: the same words through HTTP
    via_openai = load_chat("openai:local").chat(MESSAGES, max_tokens=TINY)
    assert via_openai.text == direct.text
    pieces = list(load_chat(f"openai:rag:{demo}").stream(MESSAGES, max_tokens=TINY))
    assert len(pieces) > 3 and "Sources:" in "".join(pieces)


def test_server_answers_while_an_answer_streams(
    live_server: str, demo: str, local_chat: Any
) -> None:
    """An embedding request sent while an answer streams is answered before that answer
    ends (generation runs in a worker thread, not on the event loop)."""
    body = {"model": "local", "messages": MESSAGES, "options": {"num_predict": 48}}
    lines: list[dict[str, Any]] = []
    first = threading.Event()

    def chat() -> None:
        with httpx.stream("POST", f"{live_server}/api/chat", json=body, timeout=300) as r:
            for line in r.iter_lines():
                if line:
                    lines.append(json.loads(line))
                    first.set()

    worker = threading.Thread(target=chat)
    worker.start()
    assert first.wait(300), "no answer started"
    r = httpx.post(f"{live_server}/v1/embeddings", json={"input": "hi", "model": "minilm"})
    embedded_at = time.time()
    assert r.status_code == 200
    worker.join(300)
    assert lines[-1]["done"] and lines[-1]["eval_count"] > 5
    ended_at = datetime.fromisoformat(lines[-1]["created_at"].replace("Z", "+00:00")).timestamp()
    assert embedded_at < ended_at, "the embedding waited for the whole answer"
