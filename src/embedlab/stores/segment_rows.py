"""Rows spread over several memory-mapped segments, read where they lie.

:class:`SegmentRows` is what :class:`embedlab.stores.dense.DenseIndex` scans for a store
(its segments as stored, unit-length float32, never copied whole); :func:`scores_of` and
:func:`take_rows` take an array or :class:`SegmentRows` alike, so the exact scan, the first
stages (:mod:`embedlab.stores.quantized`) and the IVF build (:mod:`embedlab.stores.ivf`)
work on either.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class SegmentRows:
    """Rows spread over several memory-mapped segments, read in place (never copied whole).

    Row ``i`` is row ``row_of[i]`` of ``blocks[block_of[i]]``. Every block is a unit-length
    float32 matrix (a segment as stored). :func:`scores_of` multiplies each block with the
    queries where it lies and scatters the scores into row order; :func:`take_rows` gathers
    only the rows asked for.
    """

    def __init__(self, blocks: list[np.ndarray], block_of: np.ndarray, row_of: np.ndarray):
        self.blocks = blocks
        self.block_of = np.asarray(block_of, dtype=np.int64)
        self.row_of = np.asarray(row_of, dtype=np.int64)
        dims = int(blocks[0].shape[1]) if blocks else 0
        self.shape = (len(self.row_of), dims)
        self.dtype = np.dtype(np.float32)
        #: per block: (row positions reading it, its rows they read, whether that is
        #: every row of the block in order, the positions as a slice when contiguous)
        self._parts: list[tuple[np.ndarray, np.ndarray, bool, slice | None]] = []
        for b, block in enumerate(blocks):
            where = np.flatnonzero(self.block_of == b)
            rows = self.row_of[where]
            whole = len(rows) == len(block) and bool(np.array_equal(rows, np.arange(len(block))))
            span = None
            if len(where) and where[-1] - where[0] + 1 == len(where):
                span = slice(int(where[0]), int(where[-1]) + 1)
            self._parts.append((where, rows, whole, span))

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        return int(sum(b.nbytes for b in self.blocks))

    def scores(self, q: np.ndarray) -> np.ndarray:
        """``(m, n)`` dot products of the queries ``q`` ``(m, d)`` with every row."""
        out = np.empty((len(q), self.shape[0]), dtype=np.float32)
        for block, (where, rows, whole, span) in zip(self.blocks, self._parts, strict=True):
            if not len(where):
                continue
            if whole:
                part = q @ block.T
            elif len(rows) > len(block) // 2:  # mostly live: scan it all, keep the live rows
                part = (q @ block.T)[:, rows]
            else:
                part = q @ block[rows].T
            out[:, span if span is not None else where] = part
        return out

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows at positions ``rows`` (a new array of ``len(rows)`` rows)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.shape[1]), dtype=np.float32)
        blocks, inner = self.block_of[rows], self.row_of[rows]
        for b in np.unique(blocks):
            sel = np.flatnonzero(blocks == b)
            out[sel] = self.blocks[int(b)][inner[sel]]
        return out

    def astype(self, dtype: Any) -> np.ndarray:
        """All rows as a new array of ``dtype`` (a whole copy, for callers that want one)."""
        return self.array().astype(dtype)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.array()
        return out if dtype is None else out.astype(dtype)

    def array(self) -> np.ndarray:
        """All rows as one array: the block itself when one block holds them all in order
        (no copy), else a gathered copy."""
        if len(self.blocks) == 1 and self._parts[0][2] and self._parts[0][3] is not None:
            return self.blocks[0]
        out = self.take(np.arange(self.shape[0]))
        out.flags.writeable = False
        return out


def scores_of(vectors: Any, q: np.ndarray) -> np.ndarray:
    """``q @ vectors.T`` for an array or :class:`SegmentRows`."""
    if isinstance(vectors, SegmentRows):
        return vectors.scores(q)
    return q @ vectors.T  # type: ignore[no-any-return]


def take_rows(vectors: Any, rows: np.ndarray) -> np.ndarray:
    """``vectors[rows]`` for an array or :class:`SegmentRows`."""
    if isinstance(vectors, SegmentRows):
        return vectors.take(rows)
    return np.asarray(vectors[rows])
