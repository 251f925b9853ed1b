"""Chat models behind HTTP: Ollama (``/api/chat``, NDJSON) and OpenAI-compatible
(``/chat/completions``, server-sent events), both streamed.

Nothing is contacted at load; the first answer is. Every failure becomes a
:class:`~embedlab.errors.ChatUnreachableError` naming the URL and what came back, and a
stream that ends before the server said it was done raises
:class:`~embedlab.errors.ChatStreamError` with what arrived. Token counts are estimates
(about four characters a token): the server's tokenizer is not here.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Generator, Iterator
from typing import Any

from embedlab.ask.chat import ChatInfo, ChatModel, Message
from embedlab.errors import ChatStreamError, ChatUnreachableError
from embedlab.models.remote import DEFAULT_OPENAI, _excerpt, ollama_base_url

DEFAULT_TIMEOUT = 120.0
#: windows assumed when the caller names none (Ollama's default num_ctx; a common size).
DEFAULT_WINDOW = {"ollama": 4096, "openai": 8192}
CHARS_PER_TOKEN = 4


def _ollama_piece(obj: Any) -> tuple[str, bool]:
    """One NDJSON line of ``/api/chat`` -> (text, done)."""
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object per line")
    if "error" in obj:
        raise ValueError(f"the server reported an error: {obj['error']}")
    msg = obj.get("message") or {}
    return str(msg.get("content") or ""), bool(obj.get("done"))


def _openai_piece(obj: Any) -> tuple[str, bool]:
    """One SSE ``data:`` object of ``/chat/completions`` -> (text, finished)."""
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object per event")
    if "error" in obj:
        raise ValueError(f"the server reported an error: {obj['error']}")
    choices = obj.get("choices") or []
    if not choices:
        return "", False
    choice = choices[0]
    delta = choice.get("delta") or choice.get("message") or {}
    return str(delta.get("content") or ""), choice.get("finish_reason") is not None


class RemoteChat(ChatModel):
    """A chat model behind an HTTP API, answers streamed."""

    def __init__(
        self,
        protocol: str,
        model: str,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        context_window: int | None = None,
    ) -> None:
        import httpx

        self.protocol = protocol
        self.model = model
        self.base_url = base_url.rstrip("/")
        path = "/api/chat" if protocol == "ollama" else "/chat/completions"
        self.url = self.base_url + path
        self.client = httpx.Client(timeout=timeout, headers=headers or {})
        self.hint = (
            "start it with 'ollama serve', or set OLLAMA_HOST"
            if protocol == "ollama"
            else "check OPENAI_BASE_URL (it ends in /v1 for most servers)"
        )
        self.info = ChatInfo(
            name=f"{protocol}:{model}",
            context_window=int(context_window or DEFAULT_WINDOW[protocol]),
            backend=f"http ({protocol})",
            description=f"{model} at {self.base_url}",
            url=self.url,
            exact_tokens=False,
        )

    def count_tokens(self, text: str) -> int:
        """An estimate: about four characters a token."""
        return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0

    def _body(self, messages: list[Message], max_tokens: int) -> dict[str, Any]:
        if self.protocol == "ollama":
            return {
                "model": self.model,
                "messages": messages,
                "stream": True,
                "options": {"num_predict": max_tokens, "temperature": 0},
            }
        return {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": 0,
        }

    def _stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        import httpx

        body = self._body(messages, max_tokens)
        pieces: list[str] = []
        try:
            with self.client.stream("POST", self.url, json=body) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise ChatUnreachableError(
                        f"{self.url} answered HTTP {resp.status_code} for chat model "
                        f"{self.model!r}: {_excerpt(resp.text)!r}. Check the model name"
                        + (" and the API key." if resp.status_code in (401, 403) else ".")
                    )
                read = _ollama_piece if self.protocol == "ollama" else _openai_piece
                lines = self._events(resp.iter_lines())
                done = yield from self._pieces(lines, read, pieces)
        except httpx.ConnectError as exc:
            raise ChatUnreachableError(
                f"Could not connect to {self.url} ({exc}): no chat server answered. "
                f"Is it running? ({self.hint})"
            ) from exc
        except httpx.TimeoutException as exc:
            raise self._cut(pieces, f"it went silent ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise self._cut(pieces, f"the connection failed ({exc})") from exc
        if not done:
            raise self._cut(pieces, "the stream ended before the server said it was done")

    def _events(self, lines: Iterator[str]) -> Iterator[str]:
        """The JSON texts of the stream: NDJSON lines, or SSE ``data:`` payloads."""
        for line in lines:
            line = line.strip()
            if not line:
                continue
            if self.protocol == "ollama":
                yield line
            elif line.startswith("data:"):
                yield line[5:].strip()

    def _pieces(
        self, events: Iterator[str], read: Callable[[Any], tuple[str, bool]], pieces: list[str]
    ) -> Generator[str, None, bool]:
        """Yield the text of each event; return whether the server said it was done."""
        done = False
        for payload in events:
            if payload == "[DONE]":
                return True
            try:
                text, finished = read(json.loads(payload))
            except ValueError as exc:
                raise self._cut(pieces, f"it sent {_excerpt(payload)!r} ({exc})") from exc
            if text:
                pieces.append(text)
                yield text
            done = done or finished
            if finished and self.protocol == "ollama":
                return True
        return done

    def _cut(self, pieces: list[str], what: str) -> ChatStreamError:
        return ChatStreamError(
            f"The answer from {self.url} was cut off after {len(''.join(pieces))} characters: "
            f"{what}. What arrived is kept; try again.",
            partial="".join(pieces),
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.client.close()


def load_ollama_chat(
    model: str,
    base_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    context_window: int | None = None,
    **_: Any,
) -> RemoteChat:
    """An Ollama chat model (``POST {base}/api/chat``); base from ``OLLAMA_HOST``."""
    return RemoteChat(
        "ollama", model, ollama_base_url(base_url), timeout=timeout, context_window=context_window
    )


def load_openai_chat(
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    context_window: int | None = None,
    **_: Any,
) -> RemoteChat:
    """An OpenAI-compatible chat model (``POST {base}/chat/completions``).

    The base URL comes from the argument, ``OPENAI_BASE_URL`` or OpenAI's own; the key from
    the argument or ``OPENAI_API_KEY``.
    """
    base = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_OPENAI
    key = api_key or os.environ.get("OPENAI_API_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return RemoteChat(
        "openai", model, base, headers=headers, timeout=timeout, context_window=context_window
    )


__all__ = ["RemoteChat", "load_ollama_chat", "load_openai_chat"]
