"""The chat model cache is bounded (issue 13): names come from requests (``ollama:<any>``),
so loading more distinct models than ``CHAT_CACHE`` lets the least recently used go."""

from __future__ import annotations

import socket

import pytest

from embedlab.ask import registry
from embedlab.ask.registry import CHAT_CACHE, load_chat
from embedlab.bounded import BoundedCache


def test_loading_past_the_bound_evicts_the_least_recently_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a cache of this test's own (same bound), so the session's loaded models stay cached
    monkeypatch.setattr(registry, "_CACHE", BoundedCache(CHAT_CACHE))
    monkeypatch.setattr(registry, "_LOADING", BoundedCache(CHAT_CACHE))
    with socket.socket() as s:  # loading a remote chat model connects to nothing
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"

    oldest = load_chat("ollama:m0", base_url=url)
    kept = load_chat("ollama:m1", base_url=url)
    for i in range(2, CHAT_CACHE):
        load_chat(f"ollama:m{i}", base_url=url)
    assert len(registry._CACHE) == CHAT_CACHE
    assert load_chat("ollama:m1", base_url=url) is kept  # m1 now the most recently used
    newest = load_chat(f"ollama:m{CHAT_CACHE}", base_url=url)  # one past the bound

    assert len(registry._CACHE) == CHAT_CACHE
    assert load_chat(f"ollama:m{CHAT_CACHE}", base_url=url) is newest
    assert load_chat("ollama:m1", base_url=url) is kept
    assert load_chat("ollama:m0", base_url=url) is not oldest  # dropped, so loaded again
    assert len(registry._CACHE) == CHAT_CACHE
