"""Dense retrieval over one matrix of vectors: exact cosine kNN, FAISS ANN, and cheap first
stages (Matryoshka truncation, int8, binary) that are rescored with the full float vectors.

Everything works on plain arrays, so it is usable without a store:

>>> index = DenseIndex(vectors)                    # (n, d) float32, normalised on the way in
>>> hits = index.search(query_vector, k=10)                  # exact below ANN_THRESHOLD
>>> hits = index.search(query_vector, k=10, dims=128)        # Matryoshka two-stage
>>> hits = index.search(query_vector, k=10, quantize="binary")  # Hamming, then float rescoring

Row positions (0..n-1) are returned; callers map them to chunk ids.

- exact: one matrix-vector product and ``np.argpartition`` (no full sort).
- ann: a FAISS ``IndexIVFFlat`` with a tuned ``nprobe``, built by
  :mod:`embedlab.stores.ivf` (which says how and why IVF).
- Matryoshka, int8, binary: a cheap first stage (a :data:`FIRST_STAGES` method) finds
  ``candidates`` rows, which the full float32 vectors rescore; how each stage scans, and
  its kernels, are in :mod:`embedlab.stores.quantized`.
- rows spread over memory-mapped segments: :mod:`embedlab.stores.segment_rows`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import DimensionMismatchError, InputError
from embedlab.stores.ivf import build_ivf
from embedlab.stores.quantized import (
    QUANTIZATIONS,
    bf16_dot_kernel,
    default_candidates,
    int8_dot,
    pad_to_bytes,
    prefix_rows,
)
from embedlab.stores.segment_rows import SegmentRows, scores_of, take_rows
from embedlab.vectors import (
    Int8Calibration,
    first_stage_bytes,
    normalize,
    to_binary,
    to_int8,
    top_k_rows,
)

#: collections with at least this many vectors use the FAISS ANN index by default. Measured
#: by ``benchmarks/search.py`` (docs/benchmarks.md, one thread, 384 dims): exact search
#: takes 0.24 ms at 10,000 vectors and 1.0 ms at 20,000 (the matrix still fits in cache),
#: fast enough that an approximate answer and a build step buy nothing; at 50,000 it takes
#: ~11 ms and at 100,000 ~21 ms (wall time) while IVF answers in well under 1 ms.
ANN_THRESHOLD = 50_000
#: filters whose FAISS id selector (a bitmap over the labels) an index keeps.
SELECTORS_KEPT = 8


@dataclass(frozen=True)
class DenseHits:
    """Top-k rows per query: ``ids`` and ``scores`` are ``(n_queries, k)``, best first.

    ``first_stage`` holds the scores the first stage gave (Matryoshka cosine, int8 dot or
    negated Hamming distance) when the result was rescored, and ``first_rank`` the 1-based
    rank each hit had in the first stage; else both are ``None``. ``depth``: how many
    first-stage rows were rescored (``None`` when none were).
    """

    ids: np.ndarray
    scores: np.ndarray
    method: str
    first_stage: np.ndarray | None = None
    first_rank: np.ndarray | None = None
    depth: int | None = None


@dataclass
class DenseIndex:
    """Cosine search over ``vectors`` (rows are L2-normalised on the way in).

    :param vectors: ``(n, d)`` float array, or a :class:`SegmentRows` (memory-mapped
        segments read in place).
    :param ann_threshold: from this many rows on, :meth:`search` uses the ANN index.
    :param unit: the rows are unit length already (a store's segments): they are used as
        given, never copied (a read-only memmap stays a memmap).
    :param ann_ids: the label of each row in the ANN index (sorted ascending; a store's
        chunk ids, so the FAISS index can be updated by id); ``None``: row positions.
    :param ann_loader: makes the ANN index when first needed (a store opens or updates
        its file); ``None``: built from the rows.
    """

    vectors: Any
    ann_threshold: int = ANN_THRESHOLD
    unit: bool = False
    ann_ids: np.ndarray | None = None
    ann_loader: Callable[[], Any] | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.vectors, SegmentRows):
            if not self.unit:
                raise InputError("SegmentRows are scanned as stored: pass unit=True.")
            return
        if self.unit:  # rows already unit length (a store's segments): used as they are
            a = np.asarray(self.vectors)
            if a.ndim != 2 or a.dtype != np.float32 or not a.flags.c_contiguous:
                raise InputError(
                    f"DenseIndex(unit=True) takes a C-contiguous float32 (n, d) matrix, got "
                    f"{a.dtype} {a.shape}."
                )
            self.vectors = a  # a read-only memmap stays one: no copy
            return
        a = np.asarray(self.vectors, dtype=np.float32)
        if a.ndim != 2:
            raise InputError(f"DenseIndex takes an (n, d) matrix, got shape {a.shape}.")
        self.vectors = np.ascontiguousarray(normalize(a))

    @property
    def n(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dims(self) -> int:
        return int(self.vectors.shape[1])

    # --- public -------------------------------------------------------------------

    def search(
        self,
        query: np.ndarray,
        k: int = 10,
        *,
        dims: int | None = None,
        quantize: str | None = None,
        candidates: int | None = None,
        exact: bool | None = None,
    ) -> DenseHits:
        """The ``k`` nearest rows by cosine for one query ``(d,)`` or a batch ``(m, d)``.

        :param dims: Matryoshka first stage on the first ``dims`` components.
        :param quantize: ``"int8"`` or ``"binary"`` first stage.
        :param candidates: how many first-stage rows are rescored (default: see
            :func:`default_candidates`).
        :param exact: force exact (``True``) or ANN (``False``) search; by default ANN is
            used from :attr:`ann_threshold` rows on when no other first stage is asked for.
        """
        q = self._queries(query)
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}.")
        if quantize is not None and quantize not in FIRST_STAGES:
            raise InputError(
                f"Unknown quantization {quantize!r}: use one of {', '.join(QUANTIZATIONS)}."
            )
        if dims is not None and not 1 <= dims <= self.dims:
            raise InputError(f"--dims must be between 1 and {self.dims}, got {dims}.")
        if dims is not None and dims < self.dims or quantize is not None:
            c = candidates or default_candidates(k, quantize, dims, self.dims)
            return self._two_stage(q, k, dims, quantize, c)
        use_ann = (self.n >= self.ann_threshold) if exact is None else not exact
        return self._ann(q, k) if use_ann else self._exact(q, k)

    def exact(self, query: np.ndarray, k: int = 10) -> DenseHits:
        """Brute force: ``vectors @ q`` and argpartition."""
        return self._exact(self._queries(query), k)

    def _exact(self, q: np.ndarray, k: int) -> DenseHits:
        ids, scores = top_k_rows(scores_of(self.vectors, q), k)
        return DenseHits(ids, scores, "exact")

    def ann(self, query: np.ndarray, k: int = 10, rows: np.ndarray | None = None) -> DenseHits:
        """FAISS IVF search with ``nprobe`` tuned to
        :data:`~embedlab.stores.ivf.ANN_TARGET_RECALL`.

        :param rows: only these row positions (ascending) may be returned: FAISS skips the
            others while it scans (an ``IDSelectorBitmap`` over the labels), with ``nprobe``
            raised by ``ceil(1/share)`` (at most 16x: as many passing rows are seen as an
            unfiltered query sees rows, since a filtered neighbour lies farther out);
            nothing is copied.
        """
        return self._ann(self._queries(query), k, rows)

    def _ann(self, q: np.ndarray, k: int, rows: np.ndarray | None = None) -> DenseHits:
        import faiss

        index = self.ann_index()
        added, removed = self._cache.get("ann_added"), self._cache.get("ann_removed")
        keep: list[Any] = []  # selectors (and their bitmaps) live until the search is done
        selector = None
        nprobe = int(index.nprobe)
        want = min(k, self.n if rows is None else len(rows))
        if rows is not None:
            selector, bits = self._selector(rows)
            keep += [selector, bits]
            share = max(len(rows) / max(self.n, 1), 1e-9)
            nprobe = int(min(index.nlist, nprobe * min(16, int(np.ceil(1 / share)))))
        if removed is not None and len(removed):
            if "ann_gone" not in self._cache:  # made once: the delta is this generation's
                batch = faiss.IDSelectorBatch(removed)
                self._cache["ann_gone"] = (batch, faiss.IDSelectorNot(batch))
            gone = self._cache["ann_gone"][1]
            selector = gone if selector is None else faiss.IDSelectorAnd(selector, gone)
            keep.append(selector)
        if selector is None:
            scores, labels = index.search(q, want)
        else:
            params: Any = faiss.SearchParametersIVF()
            params.sel = selector
            params.nprobe = nprobe
            scores, labels = index.search(q, want, params=params)
        ids = self._rows_of(labels.astype(np.int64))
        scores = scores.astype(np.float32)
        if added is not None and len(added):
            extra = added if rows is None else added[np.isin(added, rows)]
            if len(extra):
                vecs = self._cache.get("ann_added_vectors")
                if vecs is None or len(vecs) != len(added):
                    vecs = self._cache["ann_added_vectors"] = take_rows(self.vectors, added)
                part = q @ (vecs if rows is None else vecs[np.isin(added, rows)]).T
                ids = np.hstack([ids, np.broadcast_to(extra, (len(q), len(extra)))])
                scores = np.hstack([np.where(ids[:, : scores.shape[1]] < 0, -np.inf, scores), part])
                order, scores = top_k_rows(scores, want)
                ids = np.take_along_axis(ids, order, axis=1)
                scores = scores.astype(np.float32)
        del keep
        return DenseHits(ids, scores, "ann")

    def _selector(self, rows: np.ndarray) -> tuple[Any, np.ndarray]:
        """An ``IDSelectorBitmap`` admitting the labels of ``rows`` (and the bitmap, which
        must outlive it); the last :data:`SELECTORS_KEPT` are kept by the identity of
        ``rows`` (a filter's rows are kept per generation by the caller, so its repeated
        queries reuse the bitmap: at 5M rows making it took longer than the search)."""
        import faiss

        kept: list[tuple[np.ndarray, Any, np.ndarray]] = self._cache.setdefault("selectors", [])
        for entry in kept:
            if entry[0] is rows:
                return entry[1], entry[2]
        labels = rows if self.ann_ids is None else self.ann_ids[rows]
        size = int(labels.max()) + 1 if len(labels) else 1
        mask = np.zeros(size, dtype=bool)
        mask[labels] = True
        bits = np.packbits(mask, bitorder="little")  # FAISS takes the length in bytes
        selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
        kept.append((rows, selector, bits))
        del kept[:-SELECTORS_KEPT]
        return selector, bits

    def _rows_of(self, labels: np.ndarray) -> np.ndarray:
        """Row positions of ANN labels (-1, a slot FAISS could not fill, stays -1). The
        index holds exactly :attr:`ann_ids` (checked when it is opened; removed ids are
        skipped by a selector), so every other label is found."""
        if self.ann_ids is None:
            return labels
        pos = np.searchsorted(self.ann_ids, labels)
        if labels.size and labels.min() < 0:
            pos[labels < 0] = -1
        return pos

    def bytes_per_vector(self, dims: int | None = None, quantize: str | None = None) -> int:
        """Bytes the first stage reads per vector for this choice (a Matryoshka prefix
        without quantization is scanned in bfloat16: 2 bytes a dimension)."""
        return first_stage_bytes(dims or self.dims, self.dims, quantize)

    # --- ANN -------------------------------------------------------------------------

    def ann_index(self) -> Any:
        """The FAISS IVF index, built and tuned on first use."""
        if "ann" not in self._cache:
            if self.ann_loader is not None:
                got = self.ann_loader()
                if isinstance(got, tuple):  # (index, added rows, removed labels)
                    got, self._cache["ann_added"], self._cache["ann_removed"] = got
                self._cache["ann"] = got
            else:
                self._cache["ann"] = build_ivf(self.vectors, ids=self.ann_ids)
        return self._cache["ann"]

    def save_ann(self, path: Path) -> None:
        """Write the ANN index (with its tuned ``nprobe``) to ``path``.

        Each file is written under a temporary name unique to this process and renamed into
        place (``os.replace``), so a reader sees a whole file or none, never half of one (a
        full disk, a kill, another process writing the same cache).

        :raises OSError: when it cannot be written; no partial file is left.
        """
        import faiss

        index = self.ann_index()
        path.parent.mkdir(parents=True, exist_ok=True)
        nprobe = path.with_suffix(".nprobe")
        with _temporary(path) as tmp_index, _temporary(nprobe) as tmp_nprobe:
            faiss.write_index(index, str(tmp_index))
            tmp_nprobe.write_text(str(index.nprobe))
            os.replace(tmp_nprobe, nprobe)  # nprobe first: an index is never without it
            os.replace(tmp_index, path)

    def load_ann(self, path: Path, mmap: bool = False) -> bool:
        """Use a saved ANN index if ``path`` exists, can be read and fits; returns whether it
        was used (an unreadable file, e.g. half written before a crash, is ignored).

        :param mmap: map its inverted lists from the file (``IO_FLAG_MMAP``: opened in
            microseconds, its vectors in the page cache rather than this process' heap;
            read-only, so :func:`embedlab.stores.cache` never adds to a mapped index).
        """
        import faiss

        if not path.exists():
            return False
        try:
            flags = faiss.IO_FLAG_MMAP if mmap else 0
            index: Any = faiss.read_index(str(path), flags)
            nprobe = path.with_suffix(".nprobe")
            probes = int(nprobe.read_text()) if nprobe.exists() else None
        except (RuntimeError, OSError, ValueError):  # faiss raises RuntimeError on bad data
            return False
        if index.ntotal != self.n or index.d != self.dims:
            return False
        if probes is not None:
            index.nprobe = probes
        self._cache["ann"] = index
        return True

    # --- two-stage -------------------------------------------------------------------

    def _two_stage(
        self, q: np.ndarray, k: int, dims: int | None, quantize: str | None, candidates: int
    ) -> DenseHits:
        c = min(max(candidates, k), self.n)
        d = dims or self.dims
        qd = normalize(q[:, :d]) if d < self.dims else q
        cand, first = FIRST_STAGES[quantize](self, qd, d, c)
        rows = take_rows(self.vectors, cand.ravel()).reshape(len(q), cand.shape[1], -1)
        full = np.einsum("qd,qcd->qc", q, rows)
        order_ids, order_scores = top_k_rows(full, k)
        ids = np.take_along_axis(cand, order_ids, axis=1)
        first_k = np.take_along_axis(first, order_ids, axis=1)
        name = "+".join(p for p in (f"dims{d}" if d < self.dims else "", quantize or "") if p)
        return DenseHits(
            ids, order_scores, f"{name}+rescore", first_k.astype(np.float32), order_ids + 1, c
        )

    def _truncated(self, d: int) -> np.ndarray:
        key = f"float{d}"
        if key not in self._cache:
            self._cache[key] = prefix_rows(self.vectors, d)
        return self._cache[key]  # type: ignore[no-any-return]

    def _whole(self) -> np.ndarray:
        """The rows as one array: themselves for an array; for :class:`SegmentRows` a copy
        (only the int8 and binary stages at full dims read it, to make their codes)."""
        if isinstance(self.vectors, SegmentRows):
            return self.vectors.array()
        return self.vectors  # type: ignore[no-any-return]

    def _stage_float(self, q: np.ndarray, d: int, c: int) -> tuple[np.ndarray, np.ndarray]:
        """Matryoshka first stage: the truncated rows stored as bfloat16 (half the bytes of
        the memory-bound scan) and scanned by a numba kernel against the float32 query;
        float32 numpy when numba is missing. Float32 rescoring follows in :meth:`_two_stage`."""
        kernel = bf16_dot_kernel()
        if kernel is None:  # pragma: no cover - numba comes with umap-learn
            return top_k_rows(q @ self._truncated(d).T, c)
        key = f"bf16-{d}"
        if key not in self._cache:
            self._cache[key] = prefix_rows(self.vectors, d, bfloat16=True)
        half = self._cache[key]
        scores = np.vstack([kernel(half, np.ascontiguousarray(row)) for row in q])
        return top_k_rows(scores, c)

    def _stage_int8(self, q: np.ndarray, d: int, c: int) -> tuple[np.ndarray, np.ndarray]:
        key = f"int8-{d}"
        if key not in self._cache:
            base = self._truncated(d) if d < self.dims else self._whole()
            cal = Int8Calibration.fit(base)
            self._cache[key] = (np.ascontiguousarray(to_int8(base, cal)), cal)
        codes, cal = self._cache[key]
        # from_int8(s) = low + step * (s + 128.5), so q . from_int8(s) equals
        # q . low + 128.5 * (q * step).sum() + (q * step) . s: one int8 x float32 scan.
        scaled = np.ascontiguousarray(q * cal.steps, dtype=np.float32)
        offset = q @ cal.low + 128.5 * scaled.sum(axis=1)
        scores = np.vstack([int8_dot(codes, row) for row in scaled]) + offset[:, None]
        return top_k_rows(scores, c)

    def _stage_binary(self, q: np.ndarray, d: int, c: int) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        key = f"binary-{d}"
        if key not in self._cache:
            base = self._truncated(d) if d < self.dims else self._whole()
            bits = to_binary(pad_to_bytes(base))
            index = faiss.IndexBinaryFlat(bits.shape[1] * 8)
            index.add(bits)
            self._cache[key] = index
        index = self._cache[key]
        index.use_heap = c <= 200  # FAISS' counting selection is faster for long lists
        dist, ids = index.search(to_binary(pad_to_bytes(q)), c)
        return ids.astype(np.int64), -dist.astype(np.float32)

    def _queries(self, query: np.ndarray) -> np.ndarray:
        q = np.atleast_2d(np.asarray(query, dtype=np.float32))
        if q.shape[1] != self.dims:
            raise DimensionMismatchError(
                f"Query has {q.shape[1]} dims, the index {self.dims}: embed the query with "
                "the model the index was built with."
            )
        return np.ascontiguousarray(normalize(q))


#: first stage name -> method giving (candidate rows, first-stage scores).
FIRST_STAGES: dict[str | None, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    None: DenseIndex._stage_float,
    "int8": DenseIndex._stage_int8,
    "binary": DenseIndex._stage_binary,
}


@contextlib.contextmanager
def _temporary(path: Path) -> Iterator[Path]:
    """A temporary name next to ``path``, unique to this process; removed if left over."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{id(path):x}.tmp")
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)
