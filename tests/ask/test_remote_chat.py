"""The ``ollama:`` and ``openai:`` chat backends against a tiny real HTTP server on 127.0.0.1
that speaks each protocol: streaming parsing, a stream cut off midway, errors named."""

from __future__ import annotations

import socket

import pytest

from embedlab.ask import load_chat
from embedlab.ask.remote import load_ollama_chat, load_openai_chat
from embedlab.errors import ChatStreamError, ChatUnreachableError, UnknownModelError
from tests.ask.conftest import PIECES, Handler

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
def test_streams_and_replies(chat_server: str, protocol: str) -> None:
    chat = _open(protocol, "m", chat_server)
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
def test_cut_off_stream_keeps_what_arrived(chat_server: str, protocol: str) -> None:
    chat = _open(protocol, "cut", chat_server)
    got: list[str] = []
    with pytest.raises(ChatStreamError, match="cut off") as err:
        for piece in chat.stream(MESSAGES):
            got.append(piece)
    assert got == PIECES[:2] and err.value.partial == "".join(PIECES[:2])


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
def test_garbage_line_is_a_stream_error_naming_it(chat_server: str, protocol: str) -> None:
    with pytest.raises(ChatStreamError, match="not json") as err:
        _open(protocol, "garbage", chat_server).reply(MESSAGES)
    assert err.value.partial == "".join(PIECES)


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
def test_http_error_names_url_and_body(chat_server: str, protocol: str) -> None:
    with pytest.raises(ChatUnreachableError, match=r"HTTP 404.*not found, try pulling") as err:
        _open(protocol, "missing", chat_server).reply(MESSAGES)
    assert chat_server in str(err.value)


def test_nothing_listening_names_the_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ChatUnreachableError, match=rf"{url}/api/chat.*ollama serve"):
        load_ollama_chat("m", base_url=url).reply(MESSAGES)


def test_registry_opens_prefixed_models_and_lists_names(chat_server: str) -> None:
    chat = load_chat("ollama:m", base_url=chat_server)
    assert chat is load_chat("ollama:m", base_url=chat_server)  # cached per process
    assert chat.info.backend == "http (ollama)" and not chat.info.exact_tokens
    with pytest.raises(UnknownModelError, match=r"local, ollama:<model>, openai:<model>"):
        load_chat("nope")
    with pytest.raises(UnknownModelError, match="names no model"):
        load_chat("ollama:")


def _open(protocol: str, model: str, server: str):  # type: ignore[no-untyped-def]
    if protocol == "ollama":
        return load_ollama_chat(model, base_url=server)
    return load_openai_chat(model, base_url=server + "/v1", api_key="sk-test")
