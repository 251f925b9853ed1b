"""The table of chat models embedlab knows, and how to load one by name.

The table is read from the entry point group ``embedlab.chat`` (see
:mod:`embedlab.ask.specs`): embedlab's own backends are registered there exactly as a
third party's would be. Loaded models are cached per process, so a test session's server
and fixtures share one copy of the local model.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
import time
from collections.abc import Callable
from typing import Any

from embedlab.ask.chat import ChatModel
from embedlab.ask.specs import BUILTIN, ChatSpec
from embedlab.bounded import BoundedCache
from embedlab.errors import ModelNotInstalledError, UnknownModelError
from embedlab.plugins import CHAT_GROUP, entry_point_table

DEFAULT_CHAT = "local"
ENTRY_POINT_GROUP = CHAT_GROUP

#: chat models kept loaded in this process; the name comes from requests (``ollama:<any>``),
#: so the cache is bounded: the least recently used is let go (freed once nothing else holds it).
CHAT_CACHE = 32

_Key = tuple[str, tuple[tuple[str, Any], ...]]
_LOCK = threading.RLock()  # the table and the cache
_LOADING: BoundedCache[_Key, threading.Lock] = BoundedCache(CHAT_CACHE)  # one per model
_CACHE: BoundedCache[_Key, ChatModel] = BoundedCache(CHAT_CACHE)
_TABLE: dict[str, ChatSpec] = {}


def chat_specs() -> list[ChatSpec]:
    """Every registered chat backend, read once through :mod:`embedlab.plugins` from the
    ``embedlab.chat`` entry points; the built-ins come first and are never replaced (an
    install whose metadata predates the group still finds them)."""
    with _LOCK:
        if not _TABLE:
            builtin = {s.name: f"embedlab.ask.specs:{s.name.upper()}" for s in BUILTIN}
            for ep in entry_point_table(ENTRY_POINT_GROUP, builtin).values():
                spec = ep.load()
                if isinstance(spec, ChatSpec):
                    for key in (spec.name, *spec.aliases):
                        _TABLE.setdefault(key.lower(), spec)
        seen: dict[str, ChatSpec] = {}
        for spec in _TABLE.values():
            seen.setdefault(spec.name, spec)
        return list(seen.values())


def find_chat_spec(name: str) -> ChatSpec | None:
    """The spec of a name, alias, or ``prefix:`` (case-insensitive), or ``None``."""
    chat_specs()
    prefix, sep, _ = name.partition(":")
    spec = _TABLE.get((prefix if sep else name).lower())
    if spec is None or spec.prefix != bool(sep):
        return None
    return spec


def is_chat_installed(spec: ChatSpec) -> bool:
    """Whether every module the backend needs can be imported (nothing is imported)."""
    return all(importlib.util.find_spec(m) is not None for m in spec.requires)


def known_chat_names() -> list[str]:
    """Every chat model name, prefixes written ``prefix:<model>``, for messages and lists."""
    return [f"{s.name}:<model>" if s.prefix else s.name for s in chat_specs()]


def list_chat_models() -> list[dict[str, Any]]:
    """One JSON-ready row per registered chat backend, with whether it is installed."""
    return [
        {
            "name": f"{s.name}:<model>" if s.prefix else s.name,
            "description": s.description,
            "installed": is_chat_installed(s),
            "context_window": s.context_window or None,
            "size_mb": s.size_mb or None,
            "prefix": s.prefix,
            "install": s.install,
        }
        for s in chat_specs()
    ]


def _import(path: str) -> Callable[..., ChatModel]:
    module, _, func = path.partition(":")
    fn: Callable[..., ChatModel] = getattr(importlib.import_module(module), func)
    return fn


def load_chat(name: str = DEFAULT_CHAT, **options: Any) -> ChatModel:
    """Load a chat model by name, alias or ``prefix:model``; cached per process.

    :param name: ``"local"``, ``"ollama:llama3.2"``, ``"openai:gpt-4o-mini"``...
    :param options: backend options (``base_url``, ``api_key``, ``timeout``, ``context_window``).
    :raises UnknownModelError: no backend has that name; the message lists the known ones.
    :raises ModelNotInstalledError: the package that carries it is missing; says what to install.
    """
    spec = find_chat_spec(name)
    if spec is None:
        raise UnknownModelError(
            f"Unknown chat model {name!r}. Known chat models: "
            f"{', '.join(known_chat_names())}. Run 'embedlab models' to see which are installed."
        )
    arg = name.partition(":")[2].strip() if spec.prefix else ""
    if spec.prefix and not arg:
        raise UnknownModelError(f"{name!r} names no model after '{spec.name}:'.")
    # aliases share one copy: the key is the canonical name
    key = (f"{spec.name}:{arg}" if spec.prefix else spec.name, tuple(sorted(options.items())))
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            return found
        loading = _LOADING.get_or_build(key, threading.Lock)
    with loading:  # one load per model; listing and other models are not held up meanwhile
        found = _CACHE.get(key)
        if found is not None:
            return found
        if not is_chat_installed(spec):
            raise ModelNotInstalledError(
                f"Chat model {spec.name!r} is not installed. Install it with: {spec.install}"
            )
        start = time.perf_counter()
        loader = _import(spec.loader)
        model = loader(arg, **options) if spec.prefix else loader(**options)
        model.load_seconds = time.perf_counter() - start
        with _LOCK:
            _CACHE.put(key, model)
        return model


def clear_chat_cache() -> None:
    """Forget every loaded chat model (tests, or to free memory)."""
    with _LOCK:
        for model in _CACHE.values():
            model.close()
        _CACHE.clear()


__all__ = [
    "DEFAULT_CHAT",
    "ENTRY_POINT_GROUP",
    "chat_specs",
    "clear_chat_cache",
    "find_chat_spec",
    "is_chat_installed",
    "known_chat_names",
    "list_chat_models",
    "load_chat",
]
