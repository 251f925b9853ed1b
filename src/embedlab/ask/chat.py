"""The chat-model protocol every chat backend implements, and the records it returns.

A backend implements :meth:`ChatModel._stream` (yield the answer's text pieces) and
:meth:`ChatModel.count_tokens`; :meth:`ChatModel.chat` adds timing, the non-streaming
reply and the token counts on top, so no backend repeats them.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, overload

from embedlab.errors import EmptyInputError, InputError

#: one chat message, in the shape Ollama and OpenAI both use.
Message = dict[str, str]
ROLES: tuple[str, ...] = ("system", "user", "assistant")


@dataclass(frozen=True)
class ChatInfo:
    """What a chat model is.

    :param name: the registry name (``local``) or a backend-prefixed id (``ollama:llama3.2``).
    :param context_window: tokens the model reads, prompt and answer together.
    :param backend: which runtime runs it.
    :param url: the endpoint of a remote model ("" for a local one).
    :param exact_tokens: ``False`` when :meth:`ChatModel.count_tokens` is an estimate.
    """

    name: str
    context_window: int
    backend: str
    description: str = ""
    url: str = ""
    exact_tokens: bool = True
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return asdict(self)


@dataclass
class ChatReply:
    """A whole answer with its counts and times (seconds)."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    first_token_seconds: float | None
    finish_reason: str = "stop"

    @property
    def tokens_per_second(self) -> float | None:
        """Answer tokens per second after the first token arrived (``None`` if unknown)."""
        if self.first_token_seconds is None or self.completion_tokens < 2:
            return None
        span = self.seconds - self.first_token_seconds
        return (self.completion_tokens - 1) / span if span > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record, tokens per second included."""
        d = asdict(self)
        d["tokens_per_second"] = self.tokens_per_second
        return d


def check_messages(messages: list[Message]) -> list[Message]:
    """Validate chat messages: a non-empty list of ``{"role", "content"}`` dicts.

    :raises InputError: for a malformed message or an unknown role.
    :raises EmptyInputError: when there is no message, or the last one is empty.
    """
    if not messages:
        raise EmptyInputError("No messages to answer: send at least one user message.")
    out: list[Message] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("content"), str):
            raise InputError(f"Message {i} is not {{'role': ..., 'content': '...'}}: {m!r}.")
        role = m.get("role", "user")
        if role not in ROLES:
            raise InputError(f"Message {i} has role {role!r}: use one of {', '.join(ROLES)}.")
        out.append({"role": role, "content": m["content"]})
    if not out[-1]["content"].strip():
        raise EmptyInputError("The last message is empty: type a question.")
    return out


class ChatModel(ABC):
    """A chat model: messages in, an answer out (whole or streamed as text pieces)."""

    info: ChatInfo
    #: seconds the registry took to load it (set by :func:`embedlab.ask.load_chat`).
    load_seconds: float = 0.0

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """How many of the model's tokens ``text`` takes (an estimate when not exact)."""

    def render(self, messages: list[Message]) -> str:
        """The prompt as text, for people to read (a local model gives its exact template)."""
        return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages)

    def count_prompt(self, messages: list[Message]) -> int:
        """Tokens of the whole prompt as the model reads it (template included)."""
        return sum(self.count_tokens(m["content"]) + 4 for m in messages) + 2

    @abstractmethod
    def _stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        """Yield the answer's text pieces; raise ChatStreamError when cut off midway."""

    def stream(self, messages: list[Message], *, max_tokens: int = 256) -> Iterator[str]:
        """Stream the answer to ``messages`` as text pieces (at most ``max_tokens`` tokens).

        :raises ChatStreamError: the stream was cut off; ``partial`` holds what arrived.
        :raises ChatUnreachableError: the model could not be reached.
        """
        if max_tokens < 1:
            raise InputError(f"max_tokens must be at least 1, got {max_tokens}.")
        return self._stream(check_messages(messages), max_tokens)

    @overload
    def chat(
        self, messages: list[Message], *, max_tokens: int = ..., stream: Literal[False] = ...
    ) -> ChatReply: ...

    @overload
    def chat(
        self, messages: list[Message], *, max_tokens: int = ..., stream: Literal[True]
    ) -> Iterator[str]: ...

    def chat(
        self, messages: list[Message], *, max_tokens: int = 256, stream: bool = False
    ) -> ChatReply | Iterator[str]:
        """Answer ``messages``: a :class:`ChatReply`, or text pieces when ``stream``."""
        if stream:
            return self.stream(messages, max_tokens=max_tokens)
        return self.reply(messages, max_tokens=max_tokens)

    def reply(self, messages: list[Message], *, max_tokens: int = 256) -> ChatReply:
        """The whole answer with its timings and token counts."""
        msgs = check_messages(messages)
        start = time.perf_counter()
        first: float | None = None
        pieces: list[str] = []
        for piece in self.stream(msgs, max_tokens=max_tokens):
            if first is None and piece:
                first = time.perf_counter() - start
            pieces.append(piece)
        seconds = time.perf_counter() - start
        text = "".join(pieces)
        completion = self.count_tokens(text) if text else 0
        return ChatReply(
            text=text,
            model=self.info.name,
            prompt_tokens=self.count_prompt(msgs),
            completion_tokens=completion,
            seconds=seconds,
            first_token_seconds=first,
            finish_reason="length" if completion >= max_tokens else "stop",
        )

    def close(self) -> None:  # noqa: B027 - optional hook, most models hold nothing
        """Free what the model holds (connections); the default does nothing."""


__all__ = ["ROLES", "ChatInfo", "ChatModel", "ChatReply", "Message", "check_messages"]
