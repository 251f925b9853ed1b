"""Per-process caches of the derived search structures of an index, keyed by generation.

The dense matrix (and its ANN, int8 and binary forms) and the BM25 index are built once per
index generation; the BM25 index and the FAISS ANN index are also persisted under
``index.folder`` so a new process opens them instead of rebuilding.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from embedlab.bounded import BoundedCache
from embedlab.stores.dense import DenseIndex
from embedlab.stores.keyword import BM25Index, KeywordSearch

_LOCK = threading.Lock()
_BM25: dict[tuple[str, ...], tuple[int, KeywordSearch]] = {}


def _key(index: Any) -> tuple[str, str]:
    return (str(index.name), str(index.folder))


#: indexes whose current dense structures are kept in this process.
DENSE_CACHE = 16
#: index key -> (generation, the DenseIndex of that generation).
_DENSE: BoundedCache[tuple[str, ...], tuple[int, DenseIndex]] = BoundedCache(DENSE_CACHE)


def cache_key(index: Any) -> tuple[str, ...]:
    """What tells an index's cached structures apart: its folder, name and, where it has
    one, its creation stamp (an index dropped and made again under the same name is
    another index)."""
    own = getattr(index, "cache_key", None)
    return tuple(own) if own is not None else _key(index)


def cached_dense(index: Any, generation: int) -> DenseIndex:
    """The :class:`DenseIndex` of ``index`` at ``generation``.

    An embedded index's rows are scanned where they lie (its mapped unit-length segments,
    :class:`~embedlab.stores.segment_rows.SegmentRows`, never copied); its ANN index is opened
    from disk, updated by id from an older generation, or built, when first needed
    (:func:`embedlab.stores.ann.open_ann`). Other indexes: a :class:`DenseIndex` of
    ``index.vectors()`` with its ANN persisted by generation (:func:`persist_ann`).
    """
    key = cache_key(index)
    hit = _DENSE.get(key)
    if hit is not None and hit[0] == generation:
        return hit[1]
    with _LOCK:
        hit = _DENSE.get(key)
        if hit is not None and hit[0] == generation:
            return hit[1]
        snapshot = getattr(index, "snapshot", None)
        if snapshot is not None:
            dense = _store_dense(index, snapshot())
        else:
            dense = DenseIndex(index.vectors())
            if dense.n >= dense.ann_threshold:
                persist_ann(dense, index.folder / "ann", generation)
        _DENSE.put(key, (generation, dense))
        return dense


def _store_dense(index: Any, snap: Any) -> DenseIndex:
    from embedlab.stores.ann import open_ann

    folder, generation = index.folder, snap.generation
    return DenseIndex(
        snap.rows,
        unit=True,
        ann_ids=snap.ids,
        ann_loader=lambda: _loaded(open_ann(folder, generation, snap.ids, snap.rows)),
    )


def refresh_ann(index: Any, announce: Callable[[str], None] | None = None) -> str | None:
    """After a commit to an embedded ``index``: bring its ANN file up to the new generation
    (built, or updated by id from the file on disk) when it is searched by ANN (from
    :data:`~embedlab.stores.dense.ANN_THRESHOLD` rows on) and the change is past what a
    reader serves as a delta (:func:`embedlab.stores.ann.refresh`). Returns what was done
    (``built``, ``updated``, ``retrained``, ``delta``: nothing written, ``current``), or
    ``None`` when the index has no ANN. ``announce`` is called with a message when the
    file is about to be built or updated (minutes at millions of chunks).

    :raises OSError: when the file cannot be read or written (the index itself is intact;
        the next query tries again).
    """
    from embedlab.stores import dense
    from embedlab.stores.ann import refresh

    index.generation  # noqa: B018 - refreshes the snapshot
    snapshot = getattr(index, "snapshot", None)
    if snapshot is None:
        return None
    snap = snapshot()
    if len(snap.ids) < dense.ANN_THRESHOLD:  # read when called, as index info reads it
        return None
    before = {p.name for p in (index.folder / "ann").glob("gen-*.faiss")}
    ann = refresh(index.folder, snap.generation, snap.ids, snap.rows, announce)
    if ann.added is not None or ann.removed is not None:
        return "delta"
    return "current" if f"gen-{snap.generation}.faiss" in before else ann.state.how


def _loaded(ann: Any) -> Any:
    """What :class:`DenseIndex` takes from its loader: the index, with the delta when the
    file serves a newer generation."""
    if ann.added is None and ann.removed is None:
        return ann.index
    return ann.index, ann.added, ann.removed


def forget(folder: Path) -> None:
    """Drop the cached structures of the index in ``folder`` (it was dropped)."""
    _DENSE.discard(lambda k: str(folder) in k)
    keyword: Any = _BM25
    if isinstance(keyword, dict):
        with _LOCK:
            for key in [k for k in keyword if str(folder) in k]:
                del keyword[key]
    else:  # a BoundedCache
        keyword.discard(lambda k: str(folder) in k)


def persist_ann(dense: DenseIndex, base: Path, generation: int) -> None:
    """Open ``base/gen-N.faiss`` into ``dense``, or build it and save it there.

    An unreadable file (half written by a full disk, a kill) is rebuilt; other generations'
    files are removed; a folder that cannot be written (read-only, full) keeps the ANN index
    in memory only.
    """
    path = base / f"gen-{generation}.faiss"
    if dense.load_ann(path):
        return
    dense.ann_index()  # build (and tune) it before touching the files
    try:
        if base.is_dir():
            for old in base.iterdir():
                if old.name.startswith("gen-") and _generation(old.name) < generation:
                    old.unlink(missing_ok=True)
        dense.save_ann(path)
    except OSError:
        pass  # served from memory; the next process tries again


def _generation(name: str) -> int:
    """N of a ``gen-N.*`` cache file (-1 when unparsable: removed as stale)."""
    try:
        return int(name.removeprefix("gen-").split(".")[0])
    except ValueError:
        return -1


def cached_bm25(index: Any, generation: int) -> KeywordSearch:
    """The keyword index of ``index`` at ``generation``, persisted under its folder.

    The embedded store (chunk ids ascending): the incremental
    :class:`~embedlab.stores.fulltext.FullTextIndex`, caught up from this process's previous
    one or the newest state on disk (new chunks tokenized, removed ones marked dead), not
    rebuilt. Other indexes (a memory index: the evaluation grid compares its rankings with
    the grid's own :class:`BM25Index` exactly, one arithmetic): a :class:`BM25Index` built
    whole per generation. Both score rank_bm25's Okapi; they differ by float32 rounding.
    """
    import numpy as np

    from embedlab.stores.embedded import EmbeddedIndex
    from embedlab.stores.fulltext import FullTextIndex, open_keyword, store_fetch

    key = cache_key(index)  # an index dropped and made again never catches up from the old
    with _LOCK:
        hit = _BM25.get(key)
        if hit is not None and hit[0] == generation:
            return hit[1]
        ids = np.asarray(index.chunk_ids(), dtype=np.int64)
        bm25: KeywordSearch
        ascending = len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1]))
        if isinstance(index, EmbeddedIndex) and ascending:
            prior = hit[1] if hit is not None and isinstance(hit[1], FullTextIndex) else None
            bm25 = open_keyword(
                index.folder, generation, ids, store_fetch(index), index.texts, prior
            )
        else:
            bm25 = BM25Index.cached(index.folder, generation, index.texts)
        _BM25[key] = (generation, bm25)
        return bm25


def clear() -> None:
    """Forget every cached structure (tests, or after dropping an index)."""
    with _LOCK:
        _BM25.clear()
    _DENSE.clear()
