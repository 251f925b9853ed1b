"""Quantization of embeddings: float16, int8 (calibrated ranges) and binary, with scoring.

int8 follows the per-dimension calibrated scheme of sentence-transformers'
``quantize_embeddings``: each dimension's [min, max] (from a calibration set) is cut into
256 steps. Binary keeps the sign of each component, packed 8 per byte, and compares with
Hamming distance. Both are meant as a fast first stage, rescored with float vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedlab.errors import DimensionMismatchError, InputError

PRECISIONS = ("float32", "float16", "bfloat16", "int8", "binary")


@dataclass(frozen=True)
class Int8Calibration:
    """Per-dimension ranges for int8 quantization."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Int8Calibration:
        a = np.asarray(x, dtype=np.float32)
        return cls(low=a.min(axis=0), high=a.max(axis=0))

    @property
    def steps(self) -> np.ndarray:
        return np.maximum((self.high - self.low) / 255.0, 1e-12).astype(np.float32)


def to_float16(x: np.ndarray) -> np.ndarray:
    """Half precision: half the bytes, scores within ~1e-3."""
    return np.asarray(x, dtype=np.float16)


def to_int8(x: np.ndarray, calibration: Int8Calibration | None = None) -> np.ndarray:
    """Map each dimension's calibrated [low, high] onto -128..127."""
    a = np.asarray(x, dtype=np.float32)
    cal = calibration or Int8Calibration.fit(a)
    if cal.low.shape[-1] != a.shape[-1]:
        raise DimensionMismatchError(
            f"Calibration has {cal.low.shape[-1]} dims, vectors have {a.shape[-1]}."
        )
    q = np.floor((a - cal.low) / cal.steps) - 128
    return np.clip(q, -128, 127).astype(np.int8)


def from_int8(q: np.ndarray, calibration: Int8Calibration) -> np.ndarray:
    """Approximate float vectors back from int8 codes (bucket centres)."""
    return ((q.astype(np.float32) + 128.5) * calibration.steps + calibration.low).astype(np.float32)


def to_binary(x: np.ndarray) -> np.ndarray:
    """One bit per dimension (1 where the component is > 0), packed into uint8."""
    a = np.asarray(x)
    return np.packbits(a > 0, axis=-1)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hamming_matrix(a_bits: np.ndarray, b_bits: np.ndarray) -> np.ndarray:
    """Hamming distances between packed bit rows (lower = closer)."""
    a, b = np.atleast_2d(a_bits), np.atleast_2d(b_bits)
    if a.shape[-1] != b.shape[-1]:
        raise DimensionMismatchError(f"Bit rows of {a.shape[-1]} and {b.shape[-1]} bytes.")
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.int32)
    for i in range(a.shape[0]):
        out[i] = _POPCOUNT[np.bitwise_xor(b, a[i])].sum(axis=1, dtype=np.int32)
    return out


def int8_scores(query: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Dot products of float queries with int8 codes (a ranking proxy, rescore after)."""
    q = np.atleast_2d(np.asarray(query, dtype=np.float32))
    return q @ codes.astype(np.float32).T


def bytes_per_vector(dims: int, precision: str) -> int:
    """Storage of one vector of ``dims`` components at ``precision``."""
    sizes = {
        "float32": 4 * dims,
        "float16": 2 * dims,
        "bfloat16": 2 * dims,
        "int8": dims,
        "binary": (dims + 7) // 8,
    }
    if precision not in sizes:
        raise InputError(f"Unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}.")
    return sizes[precision]


def first_stage_precision(dims: int, model_dims: int, quantize: str | None = None) -> str:
    """The precision the search layer keeps a first stage in: int8/binary codes when
    quantized, a Matryoshka prefix (``dims < model_dims``) as bfloat16, else float32."""
    if quantize in (None, "none", "float32"):
        return "bfloat16" if dims < model_dims else "float32"
    return quantize


def first_stage_bytes(dims: int, model_dims: int, quantize: str | None = None) -> int:
    """Bytes per vector of the first stage the search layer stores and scans for this
    dims/quantization choice: the one storage figure the cost calculator, the grid (and its
    Pareto chart) and the Search page's panel all show."""
    return bytes_per_vector(dims, first_stage_precision(dims, model_dims, quantize))


def index_storage_bytes(
    n: int, dims: int, model_dims: int, quantize: str | None = None, *, rescore: bool = False
) -> int:
    """Vector storage of ``n`` documents: the first stage, plus the full float32 vectors
    when a cheaper first stage is rescored."""
    first = first_stage_bytes(dims, model_dims, quantize)
    two_stage = dims < model_dims or quantize not in (None, "none", "float32")
    return n * (first + (4 * model_dims if rescore and two_stage else 0))
