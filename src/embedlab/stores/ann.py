"""The embedded store's FAISS IVF index: on disk, memory-mapped, updated by chunk id.

Files under ``index.folder / "ann"`` for generation G:

    gen-G.faiss     the ``IndexIVFFlat``, labels = chunk ids (``add_with_ids``)
    gen-G.ids.npy   the chunk ids it holds, ascending (checked on open: a file that does
                    not hold exactly the snapshot's ids is not used)
    gen-G.json      nprobe and the training state (see :class:`AnnState`)
    .lock           ``flock`` of the one process that builds or updates (not the write
                    lock: a reader building a cache never blocks a writer)

Opening: the file of the snapshot's generation is memory-mapped (``IO_FLAG_MMAP``: its
inverted lists stay in the page cache, not in this process' heap; opened in well under a
millisecond). Missing: under the lock (a second process waits, then opens what the first
wrote), the newest older generation is read into memory, the chunks removed since are
taken out (``remove_ids``), the new ones added (``add_with_ids``, their vectors read from
the mapped segments), and the result written to a temporary name and renamed into place.
Nothing on disk at all: built (trained on a sample, added page by page). A file that
cannot be read is rebuilt, never fatal; a folder that cannot be written keeps the index
in memory.

Who pays: the command that changed the index (``index create``/``update``, after its
commit and outside the write lock) calls :func:`refresh`, which builds or updates the
file when the change is past the delta a reader serves, so the first query after it opens
a current file. A reader that finds the lock held by such a builder does not wait: it
serves the newest older file plus the delta, whatever its size (:func:`open_ann`).

Retraining: the centroids were fitted to the rows present at training. Drift is measured
as the mean cosine distance (1 - cos) of rows to their nearest centroid: ``train_distance``
over a sample at training, and over every row added since. The index is retrained from
scratch when at least :data:`MIN_DRIFT_ROWS` rows were added and their mean distance
exceeds the training one by more than :data:`DRIFT_LIMIT` (25 %: new data the centroids
no longer describe, so its lists are long and its recall falls), or when the collection
has grown or shrunk by more than :data:`GROWTH_LIMIT` x since training (the list count,
sqrt(n), no longer fits).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.stores.ivf import ANN_TARGET_RECALL, add_pages, train_ivf, tune_nprobe
from embedlab.stores.segment_rows import take_rows

#: relative rise of the mean distance to the nearest centroid that triggers retraining.
DRIFT_LIMIT = 0.25
#: rows that must have been added before drift is judged (fewer are too noisy to matter).
MIN_DRIFT_ROWS = 1000
#: growth (or shrinkage) factor since training that triggers retraining.
GROWTH_LIMIT = 2.0
#: rows sampled to measure the distance to the centroids at training.
DRIFT_SAMPLE = 20_000
#: a generation at most this many rows (added + removed) from the newest file on disk, and
#: at most :data:`DELTA_SHARE` of the rows, is served from that file plus a delta: the
#: removed ids skipped by FAISS (an id selector), the added rows scanned exactly; nothing
#: is written, so the first query after a small update does not rewrite the whole index.
DELTA_ROWS = 10_000
DELTA_SHARE = 0.05


@dataclass
class AnnState:
    """What an ANN file carries besides the index.

    :param nprobe: tuned at training (kept through updates).
    :param n_trained: rows when the centroids were trained.
    :param train_distance: mean 1 - cos of a sample to its nearest centroid then.
    :param added: rows added by id since training.
    :param added_distance: the sum of their distances to their nearest centroid.
    :param how: ``built``, ``updated`` or ``retrained`` (what made this file).
    """

    nprobe: int
    n_trained: int
    train_distance: float
    added: int = 0
    added_distance: float = 0.0
    how: str = "built"

    @property
    def drift(self) -> float:
        """Relative rise of the added rows' mean distance over the training one (0 when too
        few rows were added to tell)."""
        if self.added < MIN_DRIFT_ROWS or self.train_distance <= 0:
            return 0.0
        return self.added_distance / self.added / self.train_distance - 1.0

    def needs_retraining(self, n: int) -> bool:
        """Whether the centroids no longer fit (see the module's note)."""
        grown = n > GROWTH_LIMIT * self.n_trained or n * GROWTH_LIMIT < self.n_trained
        return self.drift > DRIFT_LIMIT or grown


@dataclass
class Ann:
    """An open ANN index and its state; ``added`` (row positions of the current rows) and
    ``removed`` (labels) are the delta from the file's generation when it serves a newer
    one (see :data:`DELTA_ROWS`)."""

    index: Any
    state: AnnState
    mapped: bool
    added: np.ndarray | None = None
    removed: np.ndarray | None = None


def _paths(base: Path, generation: int) -> tuple[Path, Path, Path]:
    stem = base / f"gen-{generation}"
    return stem.with_suffix(".faiss"), base / f"gen-{generation}.ids.npy", stem.with_suffix(".json")


def _generation(name: str) -> int:
    try:
        return int(name.removeprefix("gen-").split(".")[0])
    except ValueError:
        return -1


def _files(base: Path, below: int) -> list[int]:
    """Generations with an IVF file under ``base`` older than ``below``, newest first."""
    if not base.is_dir():
        return []
    found = {_generation(p.name) for p in base.glob("gen-*.faiss")}
    return sorted((g for g in found if 0 <= g < below), reverse=True)


def _diff(old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ids removed from ``old`` and added in ``new`` (both ascending, unique)."""
    return (
        np.setdiff1d(old, new, assume_unique=True),
        np.setdiff1d(new, old, assume_unique=True),
    )


def load(base: Path, generation: int, ids: np.ndarray | None, mmap: bool) -> Ann | None:
    """The ANN file of ``generation`` if it reads and holds exactly ``ids`` (any ids when
    ``None``); ``None`` otherwise (missing, half written, stale)."""

    path, ids_path, state_path = _paths(base, generation)
    if not path.exists():
        return None
    try:
        state = AnnState(**json.loads(state_path.read_text()))
        held = np.load(ids_path, allow_pickle=False)
        if ids is not None and not np.array_equal(held, ids):
            return None
        index = _read(path, mmap)
    except (RuntimeError, OSError, ValueError, TypeError, EOFError):
        return None
    if index.ntotal != len(held):
        return None
    index.nprobe = state.nprobe
    return Ann(index, state, mmap)


def _read(path: Path, mmap: bool) -> Any:
    """``faiss.read_index``; mapped: ``IO_FLAG_MMAP_IFC`` (the lists stay FAISS' ordinary
    array lists, viewing the mapped file: searched as fast as lists in memory), else
    ``IO_FLAG_MMAP`` (``OnDiskInvertedLists``, with its per-search prefetch threads off:
    they cost more than the page cache they warm)."""
    import faiss

    if not mmap:
        return faiss.read_index(str(path))
    try:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    except RuntimeError:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP)
        lists: Any = faiss.downcast_InvertedLists(faiss.extract_index_ivf(index).invlists)  # type: ignore[arg-type]
        if hasattr(lists, "prefetch_nthread"):
            lists.prefetch_nthread = 0
        return index


def _held(base: Path, generation: int) -> np.ndarray | None:
    try:
        return np.asarray(np.load(_paths(base, generation)[1], allow_pickle=False), np.int64)
    except (OSError, ValueError, EOFError):
        return None


@contextlib.contextmanager
def cache_lock(base: Path, wait: bool = True) -> Iterator[bool | None]:
    """Hold ``base/.lock``; yields ``True`` when held, ``False`` where the folder cannot be
    written (build in memory), ``None`` when ``wait`` is false and another process holds
    it (a builder is at work: serve what is on disk meanwhile)."""
    try:
        base.mkdir(parents=True, exist_ok=True)
        fd = os.open(base / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield None
            return
        yield True
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def build(rows: Any, ids: np.ndarray, target_recall: float = ANN_TARGET_RECALL) -> Ann:
    """A new IVF over ``rows`` labelled ``ids``, trained, filled and tuned."""
    index = train_ivf(rows)
    add_pages(index, rows, ids)
    index.nprobe = tune_nprobe(index, rows, target_recall, ids=ids)
    sample = np.sort(
        np.random.default_rng(2).choice(len(ids), size=min(len(ids), DRIFT_SAMPLE), replace=False)
    )
    state = AnnState(
        int(index.nprobe), len(ids), _distance(index, take_rows(rows, sample)) / max(len(sample), 1)
    )
    return Ann(index, state, False)


def _distance(index: Any, vectors: np.ndarray) -> float:
    """The sum over ``vectors`` of 1 - cos to their nearest centroid."""
    if not len(vectors):
        return 0.0
    import faiss

    ivf = faiss.extract_index_ivf(index)
    sims, _ = ivf.quantizer.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
    return float(np.sum(1.0 - sims[:, 0]))


def update(ann: Ann, old_ids: np.ndarray, rows: Any, ids: np.ndarray) -> tuple[Ann, int, int]:
    """``ann`` (read into memory) brought from ``old_ids`` to ``ids``: removed ids taken
    out, new ones added with their vectors; returns it and the counts removed, added."""
    import faiss

    removed, added = _diff(old_ids, ids)
    if len(removed):
        ann.index.remove_ids(faiss.IDSelectorBatch(removed))
    state = ann.state
    if len(added):
        vectors = np.ascontiguousarray(take_rows(rows, np.searchsorted(ids, added)))
        ivf = faiss.extract_index_ivf(ann.index)
        # one assignment serves both the drift measure and the add (add_with_ids would
        # search the centroids again)
        sims, assign = ivf.quantizer.search(vectors, 1)
        state.added += len(added)
        state.added_distance += float(np.sum(1.0 - sims[:, 0]))
        labels = np.ascontiguousarray(added, dtype=np.int64)
        lists = np.ascontiguousarray(assign[:, 0], dtype=np.int64)
        ivf.add_core(
            len(vectors), faiss.swig_ptr(vectors), faiss.swig_ptr(labels), faiss.swig_ptr(lists)
        )
    state.how = "updated"
    return ann, len(removed), len(added)


def save(base: Path, generation: int, ann: Ann, ids: np.ndarray) -> None:
    """Write the three files (temporary names, renamed into place; the index last, so a
    reader that finds it finds its ids and state); older generations are removed.

    :raises OSError: when they cannot be written (nothing partial is left).
    """
    import faiss

    path, ids_path, state_path = _paths(base, generation)
    base.mkdir(parents=True, exist_ok=True)
    tmp = [p.with_name(f".{p.name}.{os.getpid()}.tmp") for p in (path, ids_path, state_path)]
    try:
        with open(tmp[1], "wb") as f:
            np.save(f, np.asarray(ids, dtype=np.int64), allow_pickle=False)
        tmp[2].write_text(json.dumps(asdict(ann.state)))
        faiss.write_index(ann.index, str(tmp[0]))
        os.replace(tmp[1], ids_path)
        os.replace(tmp[2], state_path)
        os.replace(tmp[0], path)
    finally:
        for t in tmp:
            t.unlink(missing_ok=True)
    for old in base.iterdir():
        if old.name.startswith("gen-") and _generation(old.name) < generation:
            old.unlink(missing_ok=True)


def open_ann(folder: Path, generation: int, ids: np.ndarray, rows: Any) -> Ann:
    """The ANN index of ``generation`` (holding exactly ``ids``), opened, updated from an
    older one, or built; see the module's note. Never fails on a bad cache file.

    While another process updates the file (the writer right after an update, see
    :func:`refresh`), a reader does not wait for it: it serves the newest older file plus
    its delta whatever the delta's size (exact on the delta, so the answer is as good; a
    large delta only costs its scan). With no older file to serve it waits for the build.
    """
    base = folder / "ann"
    found = _on_disk(base, generation, ids)
    if found is not None:
        return found
    with cache_lock(base, wait=False) as free:
        if free is None:
            busy = _delta(base, generation, ids, limit=len(ids))
            if busy is not None:
                return busy
        else:
            return _make(base, generation, ids, rows, bool(free))
    return refresh(folder, generation, ids, rows)


def refresh(
    folder: Path,
    generation: int,
    ids: np.ndarray,
    rows: Any,
    announce: Callable[[str], None] | None = None,
) -> Ann:
    """:func:`open_ann`, waiting for the cache lock, and writing the file whenever the
    delta from the file on disk exceeds :data:`DELTA_ROWS` (what the writer calls after a
    commit: the update is paid by the command that changed the index, not by the first
    query after it). ``announce`` is told when the file is about to be built or updated."""
    base = folder / "ann"
    found = _on_disk(base, generation, ids)
    if found is not None:
        return found
    if announce is not None:
        announce(f"ANN index (FAISS IVF): bringing it up to date for {len(ids):,} chunks")
    with cache_lock(base) as locked:
        return _make(base, generation, ids, rows, bool(locked))


def _on_disk(base: Path, generation: int, ids: np.ndarray) -> Ann | None:
    """The file of ``generation``, or an older one with a delta small enough to serve."""
    found = load(base, generation, ids, mmap=True)
    return found if found is not None else _delta(base, generation, ids)


def _make(base: Path, generation: int, ids: np.ndarray, rows: Any, locked: bool) -> Ann:
    """Under the cache lock (``locked``; else in memory only): the file of ``generation``
    if another process made it meanwhile, else updated or built, saved and mapped."""
    found = load(base, generation, ids, mmap=True)
    if found is not None:
        return found
    ann = _updated_or_built(base, generation, ids, rows)
    if not locked:
        return ann
    try:
        save(base, generation, ann, ids)
    except OSError:
        return ann  # served from memory; the next process tries again
    mapped = load(base, generation, ids, mmap=True)
    return mapped if mapped is not None else ann


def _delta(base: Path, generation: int, ids: np.ndarray, limit: float | None = None) -> Ann | None:
    """The newest older file, mapped, with the delta to ``ids`` when it is at most
    ``limit`` rows (default: :data:`DELTA_ROWS` and :data:`DELTA_SHARE` of the rows)."""
    if limit is None:
        limit = min(DELTA_ROWS, DELTA_SHARE * len(ids))
    for g in _files(base, generation):
        old_ids = _held(base, g)
        if old_ids is None:
            continue
        removed, added = _diff(old_ids, ids)
        if len(added) + len(removed) > limit:
            return None
        found = load(base, g, old_ids, mmap=True)
        if found is None:
            continue
        found.added = np.searchsorted(ids, added).astype(np.int64)
        found.removed = removed
        return found
    return None


def describe(folder: Path, generation: int, ids: np.ndarray) -> dict[str, Any]:
    """What ``index info`` shows of the ANN index, read from disk (nothing is built):
    the file's generation and whether it is current, how many rows a query serves from
    the delta, lists, nprobe, how the file was made, rows at training, rows added since
    and the drift (see :class:`AnnState`), its size; ``{"file": None}`` when there is none.
    """
    base = folder / "ann"
    for g in _files(base, generation + 1):
        held = _held(base, g)
        found = load(base, g, held, mmap=True) if held is not None else None
        if found is None or held is None:
            continue
        delta = sum(map(len, _diff(held, ids)))
        state = found.state
        return {
            "file": f"gen-{g}.faiss",
            "current": g == generation,
            "delta_rows": int(delta),
            "lists": int(found.index.nlist),
            "nprobe": int(state.nprobe),
            "how": state.how,
            "trained_rows": state.n_trained,
            "added_since_training": state.added,
            "drift": round(state.drift, 4),
            "bytes": (base / f"gen-{g}.faiss").stat().st_size,
        }
    return {"file": None}


def _updated_or_built(base: Path, generation: int, ids: np.ndarray, rows: Any) -> Ann:
    older = _files(base, generation)
    for g in older:
        old_ids = _held(base, g)
        prior = load(base, g, old_ids, mmap=False) if old_ids is not None else None
        if prior is None or old_ids is None:
            continue
        ann, _, _ = update(prior, old_ids, rows, ids)
        if ann.state.needs_retraining(len(ids)) or len(ids) == 0:
            break
        return ann
    ann = build(rows, ids)
    if older:
        ann.state.how = "retrained"
    return ann


__all__ = [
    "DELTA_ROWS",
    "DELTA_SHARE",
    "DRIFT_LIMIT",
    "GROWTH_LIMIT",
    "MIN_DRIFT_ROWS",
    "Ann",
    "AnnState",
    "build",
    "cache_lock",
    "describe",
    "load",
    "open_ann",
    "refresh",
    "save",
    "update",
]
