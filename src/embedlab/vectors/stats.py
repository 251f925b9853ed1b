"""Descriptive statistics of one vector: what the playground and ``embedlab embed`` show."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from embedlab.errors import InputError

#: a component with ``|v| < SPARSITY_EPS`` counts as (near) zero.
SPARSITY_EPS = 1e-3


@dataclass(frozen=True)
class VectorStats:
    """Summary of one vector. ``sparsity`` is the share of components with ``|v| < 1e-3``."""

    dims: int
    min: float
    max: float
    mean: float
    std: float
    l2_norm: float
    sparsity: float
    top_dims: list[tuple[int, float]]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def vector_stats(v: np.ndarray, top: int = 5) -> VectorStats:
    """Stats of a 1-D vector; ``top_dims`` are the ``top`` dims of largest magnitude."""
    a = np.asarray(v, dtype=np.float32)
    if a.ndim != 1 or a.size == 0:
        raise InputError(f"vector_stats takes one non-empty vector, got shape {a.shape}.")
    order = np.argsort(-np.abs(a), kind="stable")[:top]
    return VectorStats(
        dims=int(a.size),
        min=float(a.min()),
        max=float(a.max()),
        mean=float(a.mean()),
        std=float(a.std()),
        l2_norm=float(np.linalg.norm(a)),
        sparsity=float(np.mean(np.abs(a) < SPARSITY_EPS)),
        top_dims=[(int(i), float(a[i])) for i in order],
    )
