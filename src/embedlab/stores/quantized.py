"""The cheap first stages of :class:`embedlab.stores.dense.DenseIndex` (the names in
:data:`QUANTIZATIONS`, and Matryoshka truncation): their kernels, the rows they scan, and
how many of their rows the full float32 vectors rescore (:func:`default_candidates`).

- Matryoshka: the first ``dims`` components, renormalised and stored as bfloat16 (a numba
  kernel widens them to float32 while scanning; float32 numpy without numba), find
  ``candidates`` rows; the full float32 vectors rescore them. :func:`prefix_rows`,
  :func:`to_bfloat16`, :func:`from_bfloat16`, :func:`bf16_dot_kernel`.
- int8: :func:`embedlab.vectors.to_int8` codes (per-dimension calibrated ranges, d bytes a
  vector) are scanned by a small numba kernel against the query scaled by the step sizes;
  the first-stage score equals the dot product with :func:`embedlab.vectors.from_int8`
  exactly; then float rescoring. :func:`int8_dot`.
- binary: :func:`embedlab.vectors.to_binary` bits in a FAISS ``IndexBinaryFlat`` (Hamming
  distance), then float rescoring. :func:`pad_to_bytes`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from embedlab.stores.segment_rows import take_rows
from embedlab.vectors import normalize

#: first-stage precisions that are rescored with float vectors.
QUANTIZATIONS = ("int8", "binary")


def default_candidates(k: int, quantize: str | None, dims: int | None, full: int) -> int:
    """How many first-stage rows to rescore: more for coarser first stages.

    At least 100; else 4 k for int8 (sentence-transformers' default rescore multiplier),
    20 k for binary, and 4 k x (full dims / dims) for a Matryoshka cut. ``benchmarks/search.py``
    and ``tests/search`` check recall@10 against exact float search with these;
    ``benchmarks/rescoring_depth.py`` measured binary at 10 k keeping 0.934 of the true top 10
    on 20,000 real MiniLM tweet vectors, 20 k 0.975 (+0.07 ms a query). Binary codes need a
    depth that grows with the rows (0.553 at 20 k on 1M clustered vectors, 0.999 at 100 k):
    pass ``candidates`` there.
    """
    base = {None: 4.0, "int8": 4.0, "binary": 20.0}[quantize]
    if dims is not None and dims < full:
        base *= full / dims
    return max(int(base * k), 100)


def to_bfloat16(x: np.ndarray) -> np.ndarray:
    """``x`` rounded (to nearest even) to bfloat16, as the raw ``uint16`` bit patterns."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bfloat16(bits: np.ndarray) -> np.ndarray:
    """float32 values of bfloat16 bit patterns from :func:`to_bfloat16`."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


_BF16: list[Callable[[np.ndarray, np.ndarray], np.ndarray] | None] = []


def bf16_dot_kernel() -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """A numba ``bits @ query`` for bfloat16 bit patterns (n, d) and a float32 query (d,),
    widening each value to float32 in registers; ``None`` when numba is missing.

    Faster than torch here: on 100,000 x 128, one thread, with the cache flushed by a full
    scan between queries, 0.95 ms against 2.1 ms for torch 2.13's bfloat16
    ``F.linear`` (float16 was slower still) and 2.1 ms for float32 numpy.
    """
    if not _BF16:
        try:
            from numba import njit
        except ImportError:  # pragma: no cover - numba comes with umap-learn
            _BF16.append(None)
            return None

        @njit(cache=True, fastmath=True, boundscheck=False)  # type: ignore[untyped-decorator]
        def kernel(bits: np.ndarray, query: np.ndarray) -> np.ndarray:  # pragma: no cover
            n, d = bits.shape
            out = np.empty(n, np.float32)
            buf = np.empty(d, np.uint32)
            wide = buf.view(np.float32)
            for i in range(n):
                for j in range(d):
                    buf[j] = np.uint32(bits[i, j]) << 16
                acc = np.float32(0.0)
                for j in range(d):
                    acc += wide[j] * query[j]
                out[i] = acc
            return out

        _BF16.append(kernel)
    return _BF16[0]


def pad_to_bytes(x: np.ndarray) -> np.ndarray:
    """Pad the last axis with zeros up to a multiple of 8 (one packed byte)."""
    extra = (-x.shape[-1]) % 8
    return np.pad(x, ((0, 0), (0, extra))) if extra else x


def _int8_dot_numpy(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    return (codes.astype(np.float32) @ query).astype(np.float32)


def _int8_dot_kernel() -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A numba loop over the int8 rows (vectorised by LLVM); numpy when numba is missing."""
    try:
        from numba import njit
    except ImportError:  # pragma: no cover - numba comes with umap-learn
        return _int8_dot_numpy

    @njit(cache=True, fastmath=True, boundscheck=False)  # type: ignore[untyped-decorator]
    def kernel(codes: np.ndarray, query: np.ndarray) -> np.ndarray:  # pragma: no cover
        n, d = codes.shape
        out = np.empty(n, np.float32)
        for i in range(n):
            acc = np.float32(0.0)
            for j in range(d):
                acc += np.float32(codes[i, j]) * query[j]
            out[i] = acc
        return out

    return kernel  # type: ignore[no-any-return]


_KERNEL: list[Callable[[np.ndarray, np.ndarray], np.ndarray]] = []


def int8_dot(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``codes @ query`` for int8 ``codes`` (n, d) and a float32 ``query`` (d,), without
    converting the codes to float first (4x less memory read than a float scan)."""
    if not _KERNEL:
        _KERNEL.append(_int8_dot_kernel())
    return _KERNEL[0](codes, np.ascontiguousarray(query, dtype=np.float32))


def prefix_rows(vectors: Any, d: int, bfloat16: bool = False, page: int = 65536) -> np.ndarray:
    """The first ``d`` components of every row renormalised (float32, or bfloat16 bit
    patterns), computed page by page (no float copy of the whole matrix on the way)."""
    n = vectors.shape[0]
    out = np.empty((n, d), dtype=np.uint16 if bfloat16 else np.float32)
    for start in range(0, n, page):
        stop = min(start + page, n)
        block = normalize(take_rows(vectors, np.arange(start, stop))[:, :d])
        out[start:stop] = to_bfloat16(block) if bfloat16 else block
    return out
