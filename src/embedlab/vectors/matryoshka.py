"""Matryoshka truncation: keep the first ``d`` dimensions and renormalise."""

from __future__ import annotations

import numpy as np

from embedlab.errors import InputError
from embedlab.vectors.similarity import normalize


def truncate(x: np.ndarray, dims: int, renormalize: bool = True) -> np.ndarray:
    """The first ``dims`` components of each vector, rescaled to unit norm by default.

    Only models trained with a Matryoshka loss keep most of their quality when cut; any
    model can be cut, and the evaluation shows how much it loses.
    """
    a = np.asarray(x, dtype=np.float32)
    full = a.shape[-1]
    if not 1 <= dims <= full:
        raise InputError(f"Cannot truncate {full}-d vectors to {dims} dims: pick 1..{full}.")
    cut = a[..., :dims]
    return normalize(cut) if renormalize else np.ascontiguousarray(cut)
