"""Assemble the prompt: an instruction, the numbered sources that fit the budget, the question.

The budget for sources is the chat model's window minus the answer's room and the tokens
of everything else in the prompt (template, instruction, question), or ``context_tokens``
when the caller sets it. Chunks go in rank order; the first one that does not fit ends
the list, and it and every chunk after it are reported as left out, never dropped silently.
A source costs the tokens of its block, ``"[n] title\\ntext\\n\\n"``, as the chat model counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from embedlab.ask.chat import ChatModel, Message
from embedlab.errors import ContextWindowError, InputError, QuestionTooLongError
from embedlab.stores.base import Chunk

INSTRUCTION = (
    "Answer the question in one or two sentences using only the numbered sources, and end "
    "each sentence with the number of its source in square brackets, like [1]. If the "
    "sources do not hold the answer, say so."
)
#: the longest question accepted, in the chat model's tokens (or a quarter of its window).
MAX_QUESTION_TOKENS = 1000


@dataclass
class ContextItem:
    """A retrieved chunk as the prompt sees it.

    :param number: its ``[n]`` in the prompt (1-based, rank order); ``None`` if it did not fit.
    :param tokens: what its source block costs in the chat model's tokens.
    """

    number: int | None
    rank: int
    score: float
    chunk: Chunk
    tokens: int
    fit: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {
            "number": self.number,
            "rank": self.rank,
            "score": self.score,
            "tokens": self.tokens,
            "fit": self.fit,
            "chunk": self.chunk.to_dict(),
        }


@dataclass
class Budget:
    """Where the window's tokens go.

    :param available: tokens the sources may take (window minus the rest, or the override).
    :param used: tokens the included sources take.
    """

    window: int
    answer_tokens: int
    instruction_tokens: int
    question_tokens: int
    fixed_tokens: int
    available: int
    used: int = 0
    override: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return dict(self.__dict__)


@dataclass
class Prompt:
    """The messages sent to the chat model, and which chunks made it in."""

    messages: list[Message]
    tokens: int
    budget: Budget
    included: list[ContextItem] = field(default_factory=list)
    excluded: list[ContextItem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {
            "messages": self.messages,
            "tokens": self.tokens,
            "budget": self.budget.to_dict(),
            "included": [c.to_dict() for c in self.included],
            "excluded": [c.to_dict() for c in self.excluded],
        }


def source_block(number: int, chunk: Chunk) -> str:
    """The text of one numbered source in the prompt."""
    head = f"[{number}] {chunk.title}".rstrip()
    return f"{head}\n{chunk.text.strip()}\n\n"


def user_message(question: str, blocks: Sequence[str]) -> str:
    """The user turn: the sources, then the question."""
    return "Sources:\n\n" + "".join(blocks) + f"Question: {question.strip()}"


def messages_for(question: str, blocks: Sequence[str]) -> list[Message]:
    """The whole conversation sent to the chat model."""
    return [
        {"role": "system", "content": INSTRUCTION},
        {"role": "user", "content": user_message(question, blocks)},
    ]


def question_limit(chat: ChatModel) -> int:
    """The longest question (tokens) accepted for this chat model."""
    return max(16, min(MAX_QUESTION_TOKENS, chat.info.context_window // 4))


def check_question(chat: ChatModel, question: str) -> int:
    """The question's tokens.

    :raises QuestionTooLongError: over :func:`question_limit`.
    """
    n = chat.count_tokens(question)
    limit = question_limit(chat)
    if n > limit:
        raise QuestionTooLongError(
            f"The question is {n} tokens long; {chat.info.name} accepts at most {limit} "
            "(a quarter of its window, at most 1000). Shorten it: ask about one thing at a time."
        )
    return n


def build_prompt(
    chat: ChatModel,
    question: str,
    ranked: Sequence[tuple[Chunk, float]],
    *,
    max_tokens: int = 256,
    context_tokens: int | None = None,
) -> Prompt:
    """Put the chunks ``ranked`` (best first, with scores) into a prompt within the budget.

    :raises ContextWindowError: not even the first chunk fits; says what would.
    :raises InputError: a budget or answer room below one token.
    """
    if max_tokens < 1:
        raise InputError(f"The answer needs room for at least 1 token, got {max_tokens}.")
    if context_tokens is not None and context_tokens < 1:
        raise InputError(f"--context-tokens must be at least 1, got {context_tokens}.")
    window = chat.info.context_window
    fixed = chat.count_prompt(messages_for(question, []))
    room = window - max_tokens - fixed
    available = room if context_tokens is None else min(context_tokens, room)
    budget = Budget(
        window=window,
        answer_tokens=max_tokens,
        instruction_tokens=chat.count_tokens(INSTRUCTION),
        question_tokens=chat.count_tokens(question),
        fixed_tokens=fixed,
        available=available,
        override=context_tokens,
    )
    included: list[ContextItem] = []
    excluded: list[ContextItem] = []
    for rank, (chunk, score) in enumerate(ranked, start=1):
        number = len(included) + 1
        cost = chat.count_tokens(source_block(number, chunk))
        if not excluded and budget.used + cost <= available:
            included.append(ContextItem(number, rank, score, chunk, cost, True))
            budget.used += cost
        else:
            excluded.append(ContextItem(None, rank, score, chunk, cost, False))
    if ranked and not included:
        first = excluded[0].tokens
        raise ContextWindowError(
            f"No source fits: {chat.info.name} reads {window} tokens; the answer's room "
            f"({max_tokens}) and the instruction and question ({fixed}) leave {max(room, 0)}"
            + (f", and --context-tokens allows {context_tokens}" if context_tokens else "")
            + f", but the best chunk takes {first}. Allow at least {first} tokens for sources "
            "(--context-tokens, a smaller answer, or a chat model with a larger window), or "
            "index with smaller chunks."
        )
    messages = messages_for(question, [source_block(c.number or 0, c.chunk) for c in included])
    return Prompt(messages, chat.count_prompt(messages), budget, included, excluded)


__all__ = [
    "INSTRUCTION",
    "MAX_QUESTION_TOKENS",
    "Budget",
    "ContextItem",
    "Prompt",
    "build_prompt",
    "check_question",
    "messages_for",
    "question_limit",
    "source_block",
]
