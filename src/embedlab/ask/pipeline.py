"""Ask an index: retrieve with the search pipeline, fit the sources into a prompt, generate,
and cite, every stage recorded with its output and time.

>>> for event in ask_stream("demo", "How long should tomato sauce simmer?"):
...     if event.type == "token":
...         print(event.text, end="")
>>> result = ask("demo", "How long should tomato sauce simmer?", max_tokens=64)
>>> result.citations[0].title

Retrieval is :func:`embedlab.search.pipeline.search` itself (the query is embedded with the
index's own model, fingerprint checked), so ``mode``, ``k``, ``rerank``, ``dims``,
``quantize`` and ``candidates`` (the rescoring depth) mean here what they mean there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from embedlab.ask.chat import ChatInfo, ChatModel, ChatReply
from embedlab.ask.cite import Citation, Sentence, check_sentences, cited_numbers, unrelated_level
from embedlab.ask.prompt import Prompt, build_prompt, check_question
from embedlab.ask.registry import DEFAULT_CHAT, load_chat
from embedlab.errors import ChatStreamError, EmptyIndexError, EmptyInputError, InputError
from embedlab.models.base import Encoder
from embedlab.search.pipeline import MODES, SearchResult, search
from embedlab.search.retrieve import check_candidates
from embedlab.stores.base import Index


@dataclass
class Prepared:
    """Everything before generation: the retrieval and the prompt, with their times."""

    question: str
    index: str
    search: SearchResult
    prompt: Prompt
    chat: ChatInfo
    timings: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {
            "question": self.question,
            "index": self.index,
            "chat": self.chat.to_dict(),
            "search": self.search.to_dict(),
            "prompt": self.prompt.to_dict(),
            "timings": self.timings,
        }


@dataclass
class AskResult:
    """An answer, its citations, its flagged sentences, and every stage's output and time.

    ``timings`` (seconds): ``embed``, ``search``, ``rerank``, ``prompt``, ``first_token``,
    ``generate``, ``cite``, ``total``. ``error`` is set when the stream was cut off
    (``answer`` then holds what arrived).
    """

    question: str
    index: str
    chat: ChatInfo
    answer: str
    citations: list[Citation]
    sentences: list[Sentence]
    search: SearchResult
    prompt: Prompt
    reply: ChatReply | None
    timings: dict[str, float]
    unrelated_level: float
    error: str | None = None

    @property
    def sources(self) -> list[Citation]:
        """Every chunk in the prompt, by its number, cited or not."""
        return [Citation.of(item) for item in self.prompt.included]

    @property
    def flagged(self) -> list[Sentence]:
        """The sentences that cite nothing or are not supported by what they cite."""
        return [s for s in self.sentences if s.flagged]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record with the headline numbers at the top."""
        reply = self.reply
        return {
            "question": self.question,
            "index": self.index,
            "chat": self.chat.to_dict(),
            "answer": self.answer,
            "error": self.error,
            "citations": [c.to_dict() for c in self.citations],
            "sources": [c.to_dict() for c in self.sources],
            "sentences": [s.to_dict() for s in self.sentences],
            "flagged": [s.text for s in self.flagged],
            "unrelated_level": self.unrelated_level,
            "prompt_tokens": self.prompt.tokens,
            "completion_tokens": reply.completion_tokens if reply else None,
            "time_to_first_token": reply.first_token_seconds if reply else None,
            "tokens_per_second": reply.tokens_per_second if reply else None,
            "timings": self.timings,
            "search": self.search.to_dict(),
            "prompt": self.prompt.to_dict(),
        }


@dataclass
class StageEvent:
    """A pipeline stage finished: ``search`` or ``prompt``, with its output."""

    stage: str
    seconds: float
    data: dict[str, Any] = field(default_factory=dict)
    type: Literal["stage"] = "stage"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "stage": self.stage, "seconds": self.seconds, "data": self.data}


@dataclass
class TokenEvent:
    """A piece of the answer's text."""

    text: str
    type: Literal["token"] = "token"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "text": self.text}


@dataclass
class DoneEvent:
    """The answer is complete (or was cut off: ``result.error``); always the last event."""

    result: AskResult
    type: Literal["done"] = "done"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "result": self.result.to_dict()}


AskEvent = StageEvent | TokenEvent | DoneEvent


def _open(index: Index | str) -> Index:
    if isinstance(index, str):
        from embedlab.stores import open_index

        index = open_index(index)
    if len(index) == 0:
        raise EmptyIndexError(
            f"Index {index.name!r} holds no chunks: there is nothing to answer from. "
            f"Add documents with 'embedlab index update {index.name} PATH'."
        )
    return index


def check_options(question: str, mode: str, k: int, max_tokens: int) -> None:
    """Validate what needs no model (the CLI calls this before loading any).

    :raises EmptyInputError: the question is empty.
    :raises InputError: unknown mode, ``k`` or ``max_tokens`` below 1.
    """
    if not isinstance(question, str) or not question.strip():
        raise EmptyInputError("The question is empty: type what you want to know.")
    if mode not in MODES:
        raise InputError(f"Unknown mode {mode!r}: use one of {', '.join(MODES)}.")
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}.")
    if max_tokens < 1:
        raise InputError(f"max_tokens must be at least 1, got {max_tokens}.")


@dataclass(frozen=True)
class AskOptions:
    """The options of :func:`prepare`, :func:`ask_stream` and :func:`ask`, built once from
    their keyword arguments and passed through (see :func:`prepare` for each one)."""

    chat: ChatModel | str = DEFAULT_CHAT
    mode: str = "dense"
    k: int = 5
    rerank: Any = None
    dims: int | None = None
    quantize: str | None = None
    candidates: int | None = None
    filters: Sequence[str] | dict[str, str] | None = None
    context_tokens: int | None = None
    max_tokens: int = 256
    encoder: Encoder | None = None

    def check(self, question: str) -> None:
        """:func:`check_options` on these options, and the rescoring depth."""
        check_options(question, self.mode, self.k, self.max_tokens)
        check_candidates(self.candidates, self.k, self.dims, self.quantize)

    def chat_model(self) -> ChatModel:
        """The chat model, loaded from the registry when given by name."""
        return load_chat(self.chat) if isinstance(self.chat, str) else self.chat


def prepare(
    index: Index | str,
    question: str,
    *,
    chat: ChatModel | str = DEFAULT_CHAT,
    mode: str = "dense",
    k: int = 5,
    rerank: Any = None,
    dims: int | None = None,
    quantize: str | None = None,
    candidates: int | None = None,
    filters: Sequence[str] | dict[str, str] | None = None,
    context_tokens: int | None = None,
    max_tokens: int = 256,
    encoder: Encoder | None = None,
) -> Prepared:
    """Retrieve and assemble the prompt, without generating (see :func:`ask`)."""
    options = AskOptions(
        chat=chat, mode=mode, k=k, rerank=rerank, dims=dims, quantize=quantize,
        candidates=candidates, filters=filters, context_tokens=context_tokens, max_tokens=max_tokens,
        encoder=encoder,
    )  # fmt: skip
    return _prepare(index, question, options)


def _prepare(index: Index | str, question: str, options: AskOptions) -> Prepared:
    started = time.perf_counter()
    options.check(question)
    idx = _open(index)
    model = options.chat_model()
    check_question(model, question)
    found = search(
        idx, question, encoder=options.encoder, k=options.k, mode=options.mode,
        rerank=options.rerank, dims=options.dims, quantize=options.quantize,
        filters=options.filters, candidates=options.candidates,
    )  # fmt: skip
    t = time.perf_counter()
    ranked = [(h.chunk, h.score) for h in found.hits]
    prompt = build_prompt(
        model,
        question,
        ranked,
        max_tokens=options.max_tokens,
        context_tokens=options.context_tokens,
    )
    st = found.timings
    timings = {
        "embed": st.get("embed", 0.0),
        "search": st.get("total", 0.0) - st.get("embed", 0.0) - st.get("rerank", 0.0),
        "rerank": st.get("rerank", 0.0),
        "prompt": time.perf_counter() - t,
    }
    timings["prepare"] = time.perf_counter() - started
    return Prepared(question, idx.name, found, prompt, model.info, timings)


def ask_stream(
    index: Index | str,
    question: str,
    *,
    chat: ChatModel | str = DEFAULT_CHAT,
    mode: str = "dense",
    k: int = 5,
    rerank: Any = None,
    dims: int | None = None,
    quantize: str | None = None,
    candidates: int | None = None,
    filters: Sequence[str] | dict[str, str] | None = None,
    context_tokens: int | None = None,
    max_tokens: int = 256,
    encoder: Encoder | None = None,
) -> Iterator[AskEvent]:
    """Answer ``question`` from ``index``, as events: stages, tokens, then :class:`DoneEvent`.

    A stream cut off midway does not raise here: the last event's ``result.error`` says so.

    :raises EmptyInputError, IndexNotFoundError, EmptyIndexError, QuestionTooLongError,
        ContextWindowError, ChatUnreachableError, InputError: before any token.
    """
    options = AskOptions(
        chat=chat, mode=mode, k=k, rerank=rerank, dims=dims, quantize=quantize,
        candidates=candidates, filters=filters, context_tokens=context_tokens, max_tokens=max_tokens,
        encoder=encoder,
    )  # fmt: skip
    return _ask_stream(index, question, options)


def _ask_stream(index: Index | str, question: str, options: AskOptions) -> Iterator[AskEvent]:
    started = time.perf_counter()
    options.check(question)  # before any model loads
    model = options.chat_model()
    prep = _prepare(index, question, replace(options, chat=model))
    max_tokens = options.max_tokens
    timings = dict(prep.timings)
    yield StageEvent("search", timings["embed"] + timings["search"] + timings["rerank"],
                     prep.search.to_dict())  # fmt: skip
    yield StageEvent("prompt", timings["prompt"], prep.prompt.to_dict())
    t = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    error: str | None = None
    try:
        for piece in model.stream(prep.prompt.messages, max_tokens=max_tokens):
            if first is None and piece:
                first = time.perf_counter() - t
            pieces.append(piece)
            yield TokenEvent(piece)
    except ChatStreamError as exc:
        error = str(exc)
    generate = time.perf_counter() - t
    answer = "".join(pieces).strip()
    completion = model.count_tokens(answer) if answer else 0
    reply = ChatReply(
        text=answer,
        model=model.info.name,
        prompt_tokens=prep.prompt.tokens,
        completion_tokens=completion,
        seconds=generate,
        first_token_seconds=first,
        finish_reason="error" if error else ("length" if completion >= max_tokens else "stop"),
    )
    t = time.perf_counter()
    encoder = options.encoder or _index_encoder(index, prep.index)
    level = unrelated_level(encoder)
    sentences = check_sentences(answer, prep.prompt.included, encoder, level)
    numbers = cited_numbers(answer)
    by_number = {c.number: c for c in prep.prompt.included}
    citations = [Citation.of(by_number[n]) for n in sorted(numbers) if n in by_number]
    timings.update(
        first_token=first if first is not None else generate,
        generate=generate,
        cite=time.perf_counter() - t,
    )
    timings["total"] = time.perf_counter() - started
    result = AskResult(
        question, prep.index, model.info, answer, citations, sentences, prep.search,
        prep.prompt, reply, timings, level, error,
    )  # fmt: skip
    yield DoneEvent(result)


def _index_encoder(index: Index | str, name: str) -> Encoder:
    """The index's own model (cached by the model registry)."""
    from embedlab.models import load_model
    from embedlab.stores import open_index

    idx = index if isinstance(index, Index) else open_index(name)
    return load_model(idx.model_name)


def ask(
    index: Index | str,
    question: str,
    **options: Any,
) -> AskResult:
    """Answer ``question`` from ``index``; options as :func:`ask_stream`.

    :raises ChatStreamError: the stream was cut off; ``partial`` holds the text and
        ``result`` the :class:`AskResult` so far.
    """
    result: AskResult | None = None
    for event in ask_stream(index, question, **options):
        if isinstance(event, DoneEvent):
            result = event.result
    assert result is not None  # ask_stream always ends with a DoneEvent
    if result.error:
        raise ChatStreamError(result.error, partial=result.answer, result=result)
    return result


__all__ = [
    "AskEvent",
    "AskOptions",
    "AskResult",
    "DoneEvent",
    "Prepared",
    "StageEvent",
    "TokenEvent",
    "ask",
    "ask_stream",
    "check_options",
    "prepare",
]
