"""First stages answered in this process: the :class:`~embedlab.stores.base.QueryIndex` of
arrays (a :class:`DenseIndex` and a :class:`BM25Index` on the same rows).

The default :meth:`Index.search`/:meth:`Index.keyword` of every store (embedded, memory)
run here, through :func:`local_queries` (one :class:`LocalQueries` per index and
generation); the evaluation grid and the training evaluation wrap their arrays in a
:class:`LocalQueries` whose ids are row positions.

A filter's rows are computed once per filter (the expression is the key) and the
restricted dense index (exact search on those rows, codes calibrated on them, as before
the store answered queries) is built once per filter and kept, at most
:data:`FILTER_CACHE` of each per generation: a repeated filtered query neither rescans the
metadata nor rebuilds and requantizes anything.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from embedlab.bounded import BoundedCache
from embedlab.stores.base import Candidates, FirstStage, Index
from embedlab.stores.dense import DenseIndex
from embedlab.stores.filters import Filter, matching_rows
from embedlab.stores.keyword import KeywordSearch
from embedlab.stores.segment_rows import scores_of

#: the dense index, or a function of no arguments that makes it when first needed.
LazyDense = DenseIndex | Callable[[], DenseIndex]
#: the BM25 index (a :class:`~embedlab.stores.keyword.BM25Index`, or the embedded store's
#: incremental :class:`~embedlab.stores.fulltext.FullTextIndex`), or a function of no
#: arguments that makes it when first needed.
LazyKeyword = KeywordSearch | Callable[[], KeywordSearch]
#: filters whose rows (and restricted dense index) are kept per generation.
FILTER_CACHE = 8
#: bytes of vectors the kept restricted dense indexes may hold together (each is a copy
#: of a small filter's rows; a filter of at least ``ann_threshold`` rows is answered in
#: place instead: FAISS's id selector, or a scan of the mapped rows, no copy).
FILTER_BYTES = 256 << 20
#: a filter keeping at least this many rows (and 1 % of them) of an index searched by ANN
#: is answered by the ANN index with an id selector, not by a restricted copy.
FILTER_ANN_MIN = 1000
#: indexes whose current-generation first stages are kept in this process.
INDEX_CACHE = 16


class LocalQueries:
    """Dense and BM25 first stages over in-process structures.

    :param dense: the :class:`DenseIndex` (or a function making it when first needed).
    :param keyword: the :class:`BM25Index` (or a function making it).
    :param ids: the id of each row (``None``: ids are row positions).
    :param records: a function giving each row's filterable record (needed for filters
        unless ``select`` is given).
    :param select: a function giving the row positions (ascending) a filter matches,
        answered by the store (the embedded store: SQLite), so no record is read here.
    :param restrict: only these row positions can be returned (applied before ``filter``).
    """

    def __init__(
        self,
        dense: LazyDense | None = None,
        keyword: LazyKeyword | None = None,
        *,
        ids: np.ndarray | None = None,
        records: Callable[[], list[dict[str, Any]]] | None = None,
        restrict: np.ndarray | None = None,
        select: Callable[[Filter], np.ndarray] | None = None,
    ) -> None:
        self._dense_src, self._keyword_src = dense, keyword
        self._dense: DenseIndex | None = None
        self._keyword: KeywordSearch | None = None
        self.ids = ids
        self._records = records
        self._select = select
        self.restrict = None if restrict is None else np.asarray(restrict, dtype=np.int64)
        self._rows: OrderedDict[Filter, np.ndarray] = OrderedDict()
        self._subsets: OrderedDict[Filter | None, DenseIndex] = OrderedDict()
        self._lock = threading.RLock()
        self._builders: tuple[Any, Any, int] = (None, None, 0)

    # --- sources --------------------------------------------------------------------

    @property
    def has_dense(self) -> bool:
        return self._dense_src is not None

    @property
    def has_keyword(self) -> bool:
        return self._keyword_src is not None

    def dense_index(self) -> DenseIndex:
        """The dense index of all rows."""
        if self._dense is None:
            src = self._dense_src
            if src is None:
                from embedlab.errors import InputError

                raise InputError("This source has no dense vectors: use --mode bm25.")
            self._dense = src() if callable(src) else src
        return self._dense

    def keyword_index(self) -> KeywordSearch:
        """The BM25 index of all rows."""
        if self._keyword is None:
            src = self._keyword_src
            if src is None:
                from embedlab.errors import InputError

                raise InputError("This source has no BM25 index: use --mode dense.")
            self._keyword = src() if callable(src) else src
        return self._keyword

    def rows(self, filter: Filter | None) -> np.ndarray | None:
        """Row positions that may be returned (``None``: all), computed once per filter."""
        if filter is None:
            return self.restrict
        with self._lock:
            hit = self._rows.get(filter)
            if hit is not None:
                self._rows.move_to_end(filter)
                return hit
        if self._select is not None:
            rows = np.asarray(self._select(filter), dtype=np.int64)
        elif self._records is None:
            from embedlab.errors import InputError

            raise InputError("This source has no metadata to filter on.")
        else:
            found = matching_rows(self._records(), filter)
            assert found is not None
            rows = found
        if self.restrict is not None:
            rows = np.intersect1d(self.restrict, rows)
        with self._lock:
            self._rows[filter] = rows
            while len(self._rows) > FILTER_CACHE:
                self._rows.popitem(last=False)
        return rows

    def _restricted(self, filter: Filter | None, rows: np.ndarray) -> DenseIndex:
        """The dense index of ``rows`` (searched exactly), built once per filter."""
        with self._lock:
            hit = self._subsets.get(filter)
            if hit is not None:
                self._subsets.move_to_end(filter)
                return hit
        from embedlab.stores.segment_rows import take_rows

        base = self.dense_index()
        sub = DenseIndex(take_rows(base.vectors, rows), ann_threshold=len(rows) + 1)
        with self._lock:
            self._subsets[filter] = sub
            while len(self._subsets) > FILTER_CACHE or (
                len(self._subsets) > 1
                and sum(d.vectors.nbytes for d in self._subsets.values()) > FILTER_BYTES
            ):
                self._subsets.popitem(last=False)
        return sub

    def _in_place(
        self, q: np.ndarray, k: int, rows: np.ndarray, stage: FirstStage
    ) -> tuple[np.ndarray, np.ndarray, str] | None:
        """A filter of many rows answered without copying them: the ANN index with an id
        selector (FAISS skips the other rows), or exact scores of the mapped rows kept for
        ``rows``; ``None`` for a small filter or a Matryoshka/quantized stage (answered on
        a restricted copy, as before)."""
        base = self.dense_index()
        if stage.dims is not None or stage.quantize:
            return None
        k = min(k, len(rows))
        big = base.n >= base.ann_threshold  # the unfiltered query would use the ANN index
        if big and stage.exact is not True and len(rows) >= max(FILTER_ANN_MIN, 0.01 * base.n):
            hits = base.ann(q, k, rows=rows)
            if not (hits.ids < 0).any():
                return hits.ids, hits.scores, "ann"
        elif len(rows) < base.ann_threshold:
            return None
        from embedlab.vectors import top_k_rows

        order, scores = top_k_rows(scores_of(base.vectors, q)[:, rows], k)
        return rows[order], scores, "exact"

    def _ids(self, positions: np.ndarray) -> np.ndarray:
        return positions if self.ids is None else self.ids[positions]

    def bind(
        self,
        index: Index,
        dense: Callable[[Index, int], DenseIndex] | None = None,
        keyword: Callable[[Index, int], KeywordSearch] | None = None,
        generation: int = 0,
    ) -> None:
        """Read records (and, with the builders, the dense and BM25 indexes when first
        needed) from ``index``; called again with the index object opened last (the builders
        kept), so a closed one is never read."""
        if dense is None and keyword is None and getattr(self, "_bound", None) is index:
            return  # bound to this very object already (every query of an open index)
        self._bound = index
        if dense is not None or keyword is not None:
            self._builders = (dense, keyword, generation)
        select = getattr(index, "filter_rows", None)
        if select is not None:  # the store answers filters (SQLite): no record read here
            self._select, self._records = select, None
        else:
            self._records = index.metadata
        build_dense, build_keyword, gen = self._builders
        if build_dense is not None:
            self._dense_src = lambda: build_dense(index, gen)
        if build_keyword is not None:
            self._keyword_src = lambda: build_keyword(index, gen)

    # --- QueryIndex -----------------------------------------------------------------

    def count(self, filter: Filter | None = None) -> int:
        """Rows that pass ``filter``."""
        rows = self.rows(filter)
        if rows is not None:
            return len(rows)
        if self.ids is not None:
            return len(self.ids)
        return self.dense_index().n if self.has_dense else self.keyword_index().n

    def search(
        self,
        query_vectors: np.ndarray,
        k: int,
        *,
        filter: Filter | None = None,
        stage: FirstStage | None = None,
    ) -> Candidates:
        """See :meth:`embedlab.stores.base.QueryIndex.search`."""
        stage = stage or FirstStage()
        q = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
        rows = self.rows(filter)
        if rows is not None and self.has_dense:
            found = self._in_place(q, k, rows, stage)
            if found is not None:
                return Candidates(self._ids(found[0]), found[1], found[2])
        dense = self.dense_index() if rows is None else self._restricted(filter, rows)
        if dense.n == 0:
            empty = np.zeros((len(q), 0))
            return Candidates(empty.astype(np.int64), empty.astype(np.float32), "empty")
        hits = dense.search(
            q, min(k, dense.n), dims=stage.dims, quantize=stage.quantize,
            candidates=stage.candidates, exact=stage.exact,
        )  # fmt: skip
        pos = hits.ids if rows is None else rows[hits.ids]
        return Candidates(
            self._ids(pos), hits.scores, hits.method, hits.first_stage, hits.first_rank,
            depth=hits.depth,
        )  # fmt: skip

    def keyword(self, query: str, k: int, filter: Filter | None = None) -> Candidates:
        """See :meth:`embedlab.stores.base.QueryIndex.keyword`."""
        found = self.keyword_index().search(query, k, rows=self.rows(filter))
        return Candidates(self._ids(found.ids), found.scores, "bm25")


_LOCAL: BoundedCache[tuple[str, ...], tuple[int, LocalQueries]] = BoundedCache(INDEX_CACHE)


def local_queries(index: Index) -> LocalQueries:
    """The :class:`LocalQueries` of ``index`` at its current generation (ids: chunk ids),
    kept for the :data:`INDEX_CACHE` indexes used last (and reused while the generation and
    the chunk ids are the same: an index dropped and made again is not mistaken for the old).
    """
    from embedlab.stores.cache import cached_bm25, cached_dense

    generation = index.generation
    ids = index.chunk_ids()
    own = getattr(index, "cache_key", None)
    key = tuple(own) if own is not None else (str(index.name), str(index.folder))
    hit = _LOCAL.get(key)
    if hit is not None and hit[0] == generation:
        local = hit[1]
        if local.ids is ids or (local.ids is not None and np.array_equal(local.ids, ids)):
            local.bind(index)
            return local
    local = LocalQueries(ids=ids)
    local.bind(index, cached_dense, cached_bm25, generation)
    _LOCAL.put(key, (generation, local))
    return local


def forget(folder: Any) -> None:
    """Drop the kept :class:`LocalQueries` of the index in ``folder`` (it was dropped)."""
    _LOCAL.discard(lambda k: str(folder) in k)


def clear() -> None:
    """Forget every kept :class:`LocalQueries` (tests, or after dropping an index)."""
    _LOCAL.clear()


__all__ = [
    "FILTER_BYTES",
    "FILTER_CACHE",
    "INDEX_CACHE",
    "LocalQueries",
    "clear",
    "forget",
    "local_queries",
]
