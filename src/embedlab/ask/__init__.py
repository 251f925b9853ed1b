"""Ask: retrieval-augmented answers with sources, from a local or remote chat model.

Chat models (:func:`load_chat`: ``local``, ``ollama:<model>``, ``openai:<model>``, and any
registered under the ``embedlab.chat`` entry points) and the pipeline (:func:`ask`,
:func:`ask_stream`, :func:`prepare`) that retrieves with the search pipeline, fits the
sources into the model's window, generates and checks the citations.
"""

from embedlab.ask.chat import ChatInfo, ChatModel, ChatReply, Message
from embedlab.ask.cite import Citation, Sentence
from embedlab.ask.pipeline import (
    AskEvent,
    AskResult,
    DoneEvent,
    Prepared,
    StageEvent,
    TokenEvent,
    ask,
    ask_stream,
    check_options,
    prepare,
)
from embedlab.ask.prompt import Budget, ContextItem, Prompt
from embedlab.ask.registry import (
    DEFAULT_CHAT,
    clear_chat_cache,
    known_chat_names,
    list_chat_models,
    load_chat,
)
from embedlab.ask.specs import ChatSpec

__all__ = [
    "DEFAULT_CHAT",
    "AskEvent",
    "AskResult",
    "Budget",
    "ChatInfo",
    "ChatModel",
    "ChatReply",
    "ChatSpec",
    "Citation",
    "ContextItem",
    "DoneEvent",
    "Message",
    "Prepared",
    "Prompt",
    "Sentence",
    "StageEvent",
    "TokenEvent",
    "ask",
    "ask_stream",
    "check_options",
    "clear_chat_cache",
    "known_chat_names",
    "list_chat_models",
    "load_chat",
    "prepare",
]
