"""Similarity and distance between vectors: pairs and matrices (pure numpy)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from embedlab.errors import DimensionMismatchError, InputError


def _as_2d(x: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise InputError(f"{name} must be a vector or a matrix of vectors, got shape {a.shape}.")
    return a


def _check_dims(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[-1] != b.shape[-1]:
        raise DimensionMismatchError(
            f"Vectors have {a.shape[-1]} and {b.shape[-1]} dimensions: compare vectors from "
            "the same model (vectors of two models live in different spaces)."
        )


def normalize(x: np.ndarray, eps: float = 1e-12, *, inplace: bool = False) -> np.ndarray:
    """Scale each row (or the one vector) to unit L2 norm; zero rows stay zero.

    :param inplace: divide ``x`` itself and return it, no copy (for an array the caller
        owns, such as a batch an encoder just made); it must be a writeable float32 array.
    """
    if inplace:
        if not (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.flags.writeable):
            raise InputError(
                "normalize(inplace=True) needs a writeable float32 array, got "
                f"{type(x).__name__} {getattr(x, 'dtype', '')}: pass inplace=False for a copy."
            )
        norms = np.linalg.norm(x, axis=-1, keepdims=True)
        x /= np.maximum(norms, eps, out=norms)
        return x
    a = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(a, axis=-1, keepdims=True)
    return (a / np.maximum(norms, eps)).astype(np.float32, copy=False)


def cosine_matrix(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b`` (default: ``a``)."""
    a2 = _as_2d(a, "a")
    b2 = a2 if b is None else _as_2d(b, "b")
    _check_dims(a2, b2)
    return normalize(a2) @ normalize(b2).T


def dot_matrix(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Dot product of every row of ``a`` with every row of ``b`` (default: ``a``)."""
    a2 = _as_2d(a, "a")
    b2 = a2 if b is None else _as_2d(b, "b")
    _check_dims(a2, b2)
    return a2 @ b2.T


def euclidean_matrix(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distance between every row of ``a`` and every row of ``b`` (lower = closer)."""
    a2 = _as_2d(a, "a").astype(np.float64)
    b2 = a2 if b is None else _as_2d(b, "b").astype(np.float64)
    _check_dims(a2, b2)
    sq = (a2**2).sum(1)[:, None] + (b2**2).sum(1)[None, :] - 2 * a2 @ b2.T
    return np.sqrt(np.maximum(sq, 0.0)).astype(np.float32)


#: metric name -> matrix function. ``higher_is_closer`` tells how to sort.
METRICS: dict[str, Callable[..., np.ndarray]] = {
    "cosine": cosine_matrix,
    "dot": dot_matrix,
    "euclidean": euclidean_matrix,
}
HIGHER_IS_CLOSER: dict[str, bool] = {"cosine": True, "dot": True, "euclidean": False}


def _metric(name: str) -> Callable[..., np.ndarray]:
    try:
        return METRICS[name]
    except KeyError:
        raise InputError(f"Unknown metric {name!r}: use one of {', '.join(METRICS)}.") from None


def similarity_matrix(
    a: np.ndarray, b: np.ndarray | None = None, metric: str = "cosine"
) -> np.ndarray:
    """The ``metric`` between all rows of ``a`` and ``b`` (default: ``a`` with itself)."""
    return _metric(metric)(a, b)


def similarity(a: np.ndarray, b: np.ndarray, metric: str = "cosine") -> float:
    """The ``metric`` between two single vectors."""
    va, vb = np.asarray(a), np.asarray(b)
    if va.ndim != 1 or vb.ndim != 1:
        raise InputError("similarity() takes two single vectors; use similarity_matrix for sets.")
    return float(_metric(metric)(va, vb)[0, 0])


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values (float32) of the ``k`` highest scores in each row, best first,
    ties by lower index: ``argpartition`` and a sort of the ``k`` kept, never a full sort.

    The one top-k of embedlab (search, maps, benchmarks and :func:`top_k` use it).
    """
    s = np.atleast_2d(scores)
    k = max(0, min(k, s.shape[1]))
    if k == 0:
        empty = np.empty((s.shape[0], 0))
        return empty.astype(np.int64), empty.astype(np.float32)
    part = (
        np.argpartition(-s, k - 1, axis=1)[:, :k]
        if k < s.shape[1]
        else np.tile(np.arange(s.shape[1]), (s.shape[0], 1))
    )
    vals = np.take_along_axis(s, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    ids = np.take_along_axis(part, order, axis=1).astype(np.int64)
    return ids, np.take_along_axis(vals, order, axis=1).astype(np.float32)


def top_k(scores: np.ndarray, k: int, higher_is_better: bool = True) -> np.ndarray:
    """Indices of the ``k`` best scores of a 1-D array, best first (ties by lower index)."""
    s = np.asarray(scores)
    return top_k_rows(s if higher_is_better else -s, k)[0][0]
