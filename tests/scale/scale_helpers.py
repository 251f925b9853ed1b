"""Helpers of the scale tests: the same chunk in two stores has different ids (the embedded
store counts, Milvus hashes), so results are compared by where each chunk comes from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from embedlab.models import Encoder
from embedlab.stores import Index


def keys(index: Index, ids: np.ndarray) -> list[tuple[str, int, int]]:
    """(source, record, chunk number) of each id, in order."""
    out = []
    for c in index.get_chunks([int(i) for i in ids]):
        out.append((c.source, int(c.position["record"]), int(c.position["chunk"])))
    return out


def recall(found: list[Any], truth: list[Any]) -> float:
    """Share of ``truth`` that ``found`` holds (1 when both are empty)."""
    if not truth:
        return 1.0 if not found else 0.0
    return len(set(found) & set(truth)) / max(len(truth), 1)


_MEMO: dict[tuple[str, str], np.ndarray] = {}


class MemoEncoder(Encoder):
    """The real encoder, embedding each (text, role) once per test session: the scale tests
    build the same corpus in two stores, and the second build should not pay again."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.info = inner.info
        self.model: Any = getattr(inner, "model", None)

    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if (role, t) not in _MEMO))
        if todo:
            for t, v in zip(todo, self.inner.embed(todo, role), strict=True):
                _MEMO[(role, t)] = v
        return np.stack([_MEMO[(role, t)] for t in texts])

    def count_tokens(self, texts: Sequence[str], role: str = "document") -> list[int] | None:
        return self.inner.count_tokens(texts, role)
