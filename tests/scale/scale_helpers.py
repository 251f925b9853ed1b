"""Helpers of the scale tests: the same chunk in two stores has different ids (the embedded
store counts, Milvus hashes), so results are compared by where each chunk comes from."""

from __future__ import annotations

from typing import Any

import numpy as np

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
