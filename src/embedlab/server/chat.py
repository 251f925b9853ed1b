"""Chat for the server's routes: which chat servers the operator configured, which chat
model a request may name, and one protocol-neutral stream of an answer that the Ollama-
and OpenAI-shaped routes and the Ask page frame their own way.

A request names a chat model, never a URL:

- ``local`` (or an alias, or another name in the chat registry): loaded in this process;
- ``ollama:MODEL``: on the Ollama the operator configured (``embedlab serve --ollama URL``,
  else ``OLLAMA_HOST``, else Ollama's default address on this machine);
- ``openai:MODEL``: on an OpenAI-compatible server the operator named
  (``embedlab serve --openai URL``, or ``OPENAI_BASE_URL``); refused when there is none;
- ``rag:INDEX``: answer from that index (the routes call :func:`embedlab.ask.ask_stream`).

Generation runs in a worker thread (:func:`embedlab.server.streaming.thread_iter`), so the
event loop keeps serving other requests while an answer streams.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from embedlab.errors import AccessDeniedError, EmbedlabError, UnknownModelError
from embedlab.models.discover import RemoteListing, probe_server
from embedlab.models.remote import ollama_base_url
from embedlab.server.streaming import thread_iter

__all__ = [
    "RAG_PREFIX",
    "answer",
    "chain",
    "chat_model_names",
    "collect",
    "ChatServers",
    "Piece",
    "chat_servers",
    "check_rag_index",
    "last_user_message",
    "list_servers",
    "open_chat",
    "plain_chat_pieces",
    "rag_index",
    "rag_pieces",
    "rag_stream",
    "remote_model_options",
    "start_stream",
]

RAG_PREFIX = "rag:"
#: answer tokens when a request says nothing (Ollama's num_predict, OpenAI's max_tokens).
DEFAULT_MAX_TOKENS = 256
#: the retrieval a ``rag:INDEX`` chat runs (the protocols have no field for stages).
RAG_STAGES: dict[str, Any] = {"mode": "hybrid", "k": 5}


@dataclass(frozen=True)
class ChatServers:
    """The chat servers the operator configured (base URLs), and the OpenAI key."""

    ollama: str
    openai: tuple[str, ...] = ()
    openai_key: str | None = None

    def all(self) -> list[tuple[str, str]]:
        """``(protocol, base URL)`` of every configured server."""
        return [("ollama", self.ollama)] + [("openai", u) for u in self.openai]


def chat_servers(request: Any) -> ChatServers:
    """The servers configured for this app: its config's ``ollama`` / ``openai`` (set by
    ``embedlab serve --ollama/--openai``), else ``OLLAMA_HOST`` / ``OPENAI_BASE_URL``."""
    config = getattr(request.app.state, "config", None)
    ollama = getattr(config, "ollama", None)
    openai = tuple(getattr(config, "openai", ()) or ())
    if not openai and os.environ.get("OPENAI_BASE_URL"):
        openai = (os.environ["OPENAI_BASE_URL"],)
    return ChatServers(
        ollama_base_url(ollama),
        tuple(u.rstrip("/") for u in openai),
        os.environ.get("OPENAI_API_KEY") or None,
    )


def remote_model_options(config: Any) -> dict[str, dict[str, Any]]:
    """Load options of the remote embedding backends the operator named explicitly
    (``--ollama URL``, ``--openai URL``: the first), for the model pool; ``{}`` when none."""
    out: dict[str, dict[str, Any]] = {}
    if getattr(config, "ollama", None):
        out["ollama"] = {"base_url": ollama_base_url(config.ollama)}
    if getattr(config, "openai", ()):
        options: dict[str, Any] = {"base_url": config.openai[0].rstrip("/")}
        if os.environ.get("OPENAI_API_KEY"):
            options["api_key"] = os.environ["OPENAI_API_KEY"]
        out["openai"] = options
    return out


async def list_servers(request: Any) -> list[RemoteListing]:
    """Probe every configured server at once (in worker threads); down ones say why."""
    servers = chat_servers(request)
    jobs = [
        asyncio.to_thread(
            probe_server, proto, url, api_key=servers.openai_key if proto == "openai" else None
        )
        for proto, url in servers.all()
    ]
    return list(await asyncio.gather(*jobs))


def rag_index(model: str | None) -> str | None:
    """The index of a ``rag:INDEX`` model name, else ``None``."""
    if model and model.lower().startswith(RAG_PREFIX):
        return model[len(RAG_PREFIX) :].removesuffix(":latest")
    return None


def check_rag_index(request: Any, name: str) -> str:
    """The index name of ``rag:NAME`` if it exists, after the access policy's check.

    :raises IndexNotFoundError: (404) listing the indexes, as ``rag:NAME`` model names.
    """
    from embedlab.errors import IndexNotFoundError
    from embedlab.stores import list_indexes

    _policy_check(request, name, "index")
    names = list_indexes()
    if name not in names:
        listed = ", ".join(f"rag:{n}" for n in names) or "none yet (embedlab index create ...)"
        raise IndexNotFoundError(
            f"No index named {name!r} for model 'rag:{name}'. Indexes: {listed}."
        )
    return name


def _policy_check(request: Any, value: str, field: str) -> None:
    policy = getattr(request.app.state, "policy", None)
    if policy is not None:
        policy.check_value(value, field)


async def open_chat(request: Any, name: str | None) -> Any:
    """The chat model a request names (``None``: ``local``), loaded in a worker thread.

    :raises AccessDeniedError: a path, or ``openai:`` with no OpenAI-compatible server
        configured.
    :raises UnknownModelError: no chat model of that name (the message lists them).
    """
    from embedlab.ask import DEFAULT_CHAT, load_chat

    name = (name or DEFAULT_CHAT).strip()
    _policy_check(request, name, "model")
    if rag_index(name) is not None:
        raise UnknownModelError(f"{name!r} is an index, not a chat model to generate with.")
    prefix, sep, model = name.partition(":")
    servers = chat_servers(request)
    options: dict[str, Any] = {}
    if sep and prefix.lower() == "ollama":
        options = {"base_url": servers.ollama}
    elif sep and prefix.lower() == "openai":
        options = {"base_url": await _openai_url(servers, model), "api_key": servers.openai_key}
    else:
        name = name.removesuffix(":latest")
    return await asyncio.to_thread(load_chat, name, **options)


async def _openai_url(servers: ChatServers, model: str) -> str:
    if not servers.openai:
        raise AccessDeniedError(
            f"No OpenAI-compatible server is configured for 'openai:{model}': start the "
            "server with 'embedlab serve --openai URL' (or set OPENAI_BASE_URL)."
        )
    if len(servers.openai) == 1:
        return servers.openai[0]
    listings = await asyncio.gather(
        *[
            asyncio.to_thread(probe_server, "openai", u, api_key=servers.openai_key)
            for u in servers.openai
        ]
    )
    for listing in listings:
        if any(m.model == model for m in listing.models):
            return listing.url
    return servers.openai[0]


# --- one answer as protocol-neutral pieces ---------------------------------------------


@dataclass
class Piece:
    """One step of an answer: text to send, or the end with its record.

    :param text: a piece of the answer ("" for the end).
    :param done: the last piece: ``info`` holds the counts, durations and sources.
    :param event: the ask pipeline's event as a dict (stages, for the Ask page), if any.
    """

    text: str = ""
    done: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    event: dict[str, Any] | None = None


def sources_text(sources: list[dict[str, Any]]) -> str:
    """The sources appended to a RAG answer: ``[n] title (source)`` one a line."""
    if not sources:
        return ""
    lines = [
        f"[{s['number']}] {s.get('title') or s.get('source')}"
        + (f" ({s['source']})" if s.get("title") and s.get("source") else "")
        for s in sources
    ]
    return "\n\nSources:\n" + "\n".join(lines)


def plain_chat_pieces(
    model: Any, messages: list[dict[str, str]], max_tokens: int
) -> Iterator[Piece]:
    """Stream ``model``'s answer as pieces (blocking: run it in a worker thread)."""
    start = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    for text in model.stream(messages, max_tokens=max_tokens):
        if first is None and text:
            first = time.perf_counter() - start
        parts.append(text)
        yield Piece(text)
    seconds = time.perf_counter() - start
    answer = "".join(parts)
    completion = model.count_tokens(answer) if answer else 0
    yield Piece(
        done=True,
        info={
            "model": model.info.name,
            "prompt_tokens": model.count_prompt(messages),
            "completion_tokens": completion,
            "seconds": seconds,
            "first_token_seconds": first,
            "load_seconds": 0.0,
            "finish_reason": "length" if completion >= max_tokens else "stop",
            "error": None,
        },
    )


def rag_pieces(
    index: Any, question: str, chat: Any, max_tokens: int, **stages: Any
) -> Iterator[Piece]:
    """Stream an answer from ``index`` (blocking): the pipeline's stage events, the answer,
    then the sources as text and in the end record (``info["sources"]``)."""
    from embedlab.ask import DoneEvent, TokenEvent, ask_stream

    for event in ask_stream(index, question, chat=chat, max_tokens=max_tokens, **stages):
        if isinstance(event, TokenEvent):
            yield Piece(event.text)
        elif isinstance(event, DoneEvent):
            result = event.result
            data = result.to_dict()
            sources = data.get("sources") or []
            if result.error is None:
                yield Piece(sources_text(sources))
            reply = result.reply
            yield Piece(
                done=True,
                info={
                    "model": f"{RAG_PREFIX}{getattr(index, 'name', index)}",
                    "prompt_tokens": data.get("prompt_tokens") or 0,
                    "completion_tokens": data.get("completion_tokens") or 0,
                    "seconds": result.timings.get("total", 0.0),
                    "first_token_seconds": data.get("time_to_first_token"),
                    "load_seconds": 0.0,
                    "finish_reason": reply.finish_reason if reply else "stop",
                    "error": result.error,
                    "sources": sources,
                    "result": data,
                },
                event=event.to_dict(),
            )
        else:
            yield Piece(event=event.to_dict())


async def start_stream(pieces: AsyncIterator[Piece]) -> tuple[list[Piece], AsyncIterator[Piece]]:
    """Pull ``pieces`` up to the first text (or the end), so errors before the answer
    starts raise here, where the route can still answer an HTTP error status.

    :return: the pieces pulled so far, and the rest of the stream.
    :raises EmbedlabError: whatever failed before the first text.
    """
    head: list[Piece] = []
    async for piece in pieces:
        head.append(piece)
        if piece.text or piece.done:
            break
    return head, pieces


def first_problem(exc: Any) -> str:
    """``field.path: message`` of a pydantic ``ValidationError``'s first error, for the
    chat routes' protocol-shaped 400s."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg')}"


def error_text(exc: BaseException) -> str:
    """The message a stream cut off midway sends as its last event."""
    if isinstance(exc, EmbedlabError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


async def rag_stream(
    request: Any, index_name: str, question: str, chat: Any, max_tokens: int, **stages: Any
) -> AsyncIterator[Piece]:
    """:func:`rag_pieces` in a worker thread, with the index's encoder from the app's pool
    (loaded once, shared with the embedding routes)."""
    from embedlab.server.models import get_pool
    from embedlab.stores import open_index

    index = await asyncio.to_thread(open_index, index_name)
    encoder, _ = await get_pool(request).encoder(index.model_name, trusted=True)
    return thread_iter(
        lambda: rag_pieces(index, question, chat, max_tokens, encoder=encoder, **stages)
    )


def last_user_message(messages: list[dict[str, Any]]) -> str:
    """The question of a chat: the last user message's text ("" when there is none)."""
    for m in reversed(messages):
        if m.get("role", "user") == "user" and isinstance(m.get("content"), str):
            return str(m["content"])
    return ""


async def answer(
    request: Any, model: str, messages: list[dict[str, str]], max_tokens: int
) -> tuple[list[Piece], AsyncIterator[Piece]]:
    """Start answering a chat request in either protocol, up to its first text.

    ``model`` is ``rag:INDEX`` (the question is the last user message) or a chat model.
    :raises EmbedlabError: anything that fails before the answer starts (unknown index or
        model, empty question, a model that cannot be reached...).
    """
    index = rag_index(model)
    if index is not None:
        check_rag_index(request, index)
        question = last_user_message(messages)
        if not question.strip():
            from embedlab.errors import EmptyInputError

            raise EmptyInputError("No question: the last user message is empty.")
        chat_model = await open_chat(request, None)
        pieces = await rag_stream(request, index, question, chat_model, max_tokens, **RAG_STAGES)
    else:
        chat_model = await open_chat(request, model)
        pieces = thread_iter(lambda: plain_chat_pieces(chat_model, messages, max_tokens))
    return await start_stream(pieces)


async def chain(head: list[Piece], rest: AsyncIterator[Piece]) -> AsyncIterator[Piece]:
    """The pieces already pulled, then the rest."""
    for piece in head:
        yield piece
    async for piece in rest:
        yield piece


async def collect(head: list[Piece], rest: AsyncIterator[Piece]) -> tuple[str, dict[str, Any]]:
    """The whole answer's text and its end record (for ``stream: false``)."""
    texts: list[str] = []
    info: dict[str, Any] = {}
    async for piece in chain(head, rest):
        texts.append(piece.text)
        if piece.done:
            info = piece.info
    return "".join(texts), info


def chat_model_names() -> list[str]:
    """What the model lists offer for chat: the installed local chat models, then
    ``rag:INDEX`` for every index."""
    from embedlab.ask import list_chat_models
    from embedlab.stores import list_indexes

    local = [m["name"] for m in list_chat_models() if not m["prefix"] and m["installed"]]
    return local + [f"{RAG_PREFIX}{n}" for n in list_indexes()]
