"""One small helper for in-process caches: typed, bounded, least recently used goes first.

Key a cache by what determines its value (an index's name *and* generation, a model's
fingerprint), never by a loose string, so a stale entry is never found; the bound keeps a
long-running server from growing without end.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A thread-safe mapping of at most ``maxsize`` entries; the least recently used is
    dropped first."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value under ``key`` (now the most recently used), or None."""
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: K, value: V) -> None:
        """Store ``value`` under ``key``, dropping the least recently used beyond the bound."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def get_or_build(self, key: K, build: Callable[[], V]) -> V:
        """The value under ``key``, built with ``build()`` (outside the lock) when missing."""
        found = self.get(key)
        if found is not None:
            return found
        value = build()
        self.put(key, value)
        return value

    def discard(self, drop: Callable[[K], bool]) -> None:
        """Drop every entry whose key ``drop(key)`` is true (an index that was dropped)."""
        with self._lock:
            for key in [k for k in self._data if drop(k)]:
                del self._data[key]

    def values(self) -> list[V]:
        """A snapshot of the values, least recently used first."""
        with self._lock:
            return list(self._data.values())

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._data.clear()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


__all__ = ["BoundedCache"]
