"""The files of the embedded store's incremental BM25 index (:mod:`.fulltext` scores over
them): segments of raw term counts and the states that name them, under ``bm25/``.

A segment (one folder ``bm25/seg-<hex>/`` of ``.npy`` files, opened with ``mmap``) holds the
chunks of one catch-up, ids ascending: an inverted part (for each term present, the local
rows and term counts: what a query reads) and a forward part (for each chunk, its distinct
terms and counts: what a deletion reads to lower the document frequencies, and what a
merge re-inverts without reading texts again). Its ``vocab.txt`` lists the terms it added
to the global vocabulary, in id order, so the vocabulary is the concatenation over the
segments.

A state (``bm25/gen-G/``: ``state.json``, ``df.npy``, ``dead.npy``) names the segments of
generation G, the document frequency of every term over the live chunks, and the dead
chunk ids.

Every segment and state is written to a temporary folder (``.tmp-inc-*``) and renamed into
place, by a process holding an ``flock`` on ``bm25/.lock`` (:func:`flock`). The newest
readable state at or below a generation is loaded (:func:`load_latest`); a state or segment
that cannot be read is removed (the caller rebuilds it). After a save, other states,
unreferenced segments and leftovers are removed (:func:`cleanup`); a newer state (a process
with a later snapshot) stays. Segments are merged from their forward parts (:func:`merge`,
no tokenizing).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = 1

_ARRAYS = ("ids", "lengths", "terms", "indptr", "docs", "tfs", "fptr", "fterms", "ftfs")


class Unreadable(Exception):
    """A state or segment on disk that cannot be used (rebuilt)."""


@dataclass
class Segment:
    """Chunks of one catch-up (see the module docstring); ``name`` is ``""`` until saved."""

    ids: np.ndarray  # int64 chunk ids, ascending
    lengths: np.ndarray  # int32 tokens per chunk
    terms: np.ndarray  # int32 global term ids present, ascending
    indptr: np.ndarray  # int64, len(terms) + 1
    docs: np.ndarray  # int32 local row of each posting
    tfs: np.ndarray  # int32 term count of each posting
    fptr: np.ndarray  # int64, len(ids) + 1
    fterms: np.ndarray  # int32 distinct term ids of each chunk
    ftfs: np.ndarray  # int32 their counts
    new_terms: list[str]  # terms this segment added to the vocabulary, in id order
    name: str = ""

    @property
    def n(self) -> int:
        return len(self.ids)

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Local rows and counts of ``term`` (``None`` when absent)."""
        j = int(np.searchsorted(self.terms, term))
        if j >= len(self.terms) or int(self.terms[j]) != term:
            return None
        lo, hi = int(self.indptr[j]), int(self.indptr[j + 1])
        return np.asarray(self.docs[lo:hi]), np.asarray(self.tfs[lo:hi])

    # --- disk -------------------------------------------------------------------------
    def save(self, base: Path) -> None:
        """Write under ``base/seg-<hex>`` (temporary folder, then rename)."""
        name = f"seg-{uuid.uuid4().hex}"
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-inc-", dir=base))
        try:
            for key in _ARRAYS:
                np.save(tmp / f"{key}.npy", np.ascontiguousarray(getattr(self, key)))
            (tmp / "vocab.txt").write_text("\n".join(self.new_terms), encoding="utf-8")
            (tmp / "segment.json").write_text(
                json.dumps({"format": FORMAT, "n": self.n, "new_terms": len(self.new_terms)})
            )
            os.rename(tmp, base / name)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.name = name

    @classmethod
    def load(cls, folder: Path) -> Segment:
        """Open a saved segment (arrays memory-mapped); checks the shapes agree.

        :raises Unreadable: when a file is missing, truncated or inconsistent.
        """
        try:
            info = json.loads((folder / "segment.json").read_text())
            arrays = {k: np.load(folder / f"{k}.npy", mmap_mode="r") for k in _ARRAYS}
            text = (folder / "vocab.txt").read_text(encoding="utf-8")
        except (OSError, ValueError, EOFError) as exc:
            raise Unreadable(f"{folder}: {exc}") from None
        terms = text.split("\n") if text else []
        n = int(info.get("n", -1))
        ok = (
            info.get("format") == FORMAT
            and len(terms) == int(info.get("new_terms", -1))
            and len(arrays["ids"]) == n == len(arrays["lengths"]) == len(arrays["fptr"]) - 1
            and len(arrays["indptr"]) == len(arrays["terms"]) + 1
            and int(arrays["indptr"][-1]) == len(arrays["docs"]) == len(arrays["tfs"])
            and int(arrays["fptr"][-1]) == len(arrays["fterms"]) == len(arrays["ftfs"])
        )
        if not ok:
            raise Unreadable(f"{folder}: inconsistent segment")
        return cls(**arrays, new_terms=terms, name=folder.name)


def segment_from_forward(
    ids: np.ndarray,
    lengths: np.ndarray,
    fptr: np.ndarray,
    fterms: np.ndarray,
    ftfs: np.ndarray,
    new_terms: list[str],
) -> Segment:
    """A segment from its forward part (rows sorted by term within each chunk not needed)."""
    doc_of = np.repeat(np.arange(len(ids), dtype=np.int32), np.diff(fptr))
    order = np.argsort(fterms, kind="stable")
    sorted_terms = fterms[order]
    if len(sorted_terms):
        starts = np.flatnonzero(np.r_[True, sorted_terms[1:] != sorted_terms[:-1]])
    else:
        starts = np.zeros(0, dtype=np.int64)
    indptr = np.r_[starts, len(sorted_terms)].astype(np.int64)
    return Segment(
        ids=np.asarray(ids, dtype=np.int64),
        lengths=np.asarray(lengths, dtype=np.int32),
        terms=sorted_terms[starts].astype(np.int32),
        indptr=indptr,
        docs=doc_of[order],
        tfs=ftfs[order].astype(np.int32),
        fptr=np.asarray(fptr, dtype=np.int64),
        fterms=np.asarray(fterms, dtype=np.int32),
        ftfs=np.asarray(ftfs, dtype=np.int32),
        new_terms=new_terms,
    )


def merge(segments: list[Segment], dead: np.ndarray) -> Segment:
    """One segment of the live chunks of ``segments`` (in order), from their forward parts."""
    ids, lengths, rows_t, rows_c, counts, new_terms = [], [], [], [], [], []
    for seg in segments:
        keep = ~member(np.asarray(seg.ids), dead)
        local = np.flatnonzero(keep)
        ids.append(np.asarray(seg.ids)[local])
        lengths.append(np.asarray(seg.lengths)[local])
        fptr = np.asarray(seg.fptr)
        sizes = (fptr[1:] - fptr[:-1])[local]
        take = ranges(fptr[:-1][local], sizes)
        rows_t.append(np.asarray(seg.fterms)[take])
        rows_c.append(np.asarray(seg.ftfs)[take])
        counts.append(sizes)
        new_terms.extend(seg.new_terms)
    sizes = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    return segment_from_forward(
        np.concatenate(ids),
        np.concatenate(lengths),
        np.r_[0, np.cumsum(sizes)].astype(np.int64),
        np.concatenate(rows_t),
        np.concatenate(rows_c),
        new_terms,
    )


def member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which ``values`` are in ``sorted_set`` (ascending): a binary search, no sort."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return np.asarray(sorted_set[pos] == values)


def ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for each start and size (vectorized)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(sizes)
    offsets = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - sizes), sizes)
    return np.arange(total, dtype=np.int64) + offsets


@dataclass
class State:
    """What a state folder ``bm25/gen-G`` holds (see the module docstring), its segments
    opened; ``vocab`` maps the terms of the segments' vocabularies to their ids."""

    generation: int
    segments: list[Segment]
    vocab: dict[str, int]
    n_vocab: int
    df: np.ndarray
    dead: np.ndarray
    k1: float
    b: float


def save_state(base: Path, state: State) -> None:
    """Write unsaved segments, then ``base/gen-G`` (temporary folder, then rename).

    :raises OSError: when it cannot be written.
    """
    for seg in state.segments:
        if not seg.name:
            seg.save(base)
    target = base / f"gen-{state.generation}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-inc-", dir=base))
    try:
        np.save(tmp / "df.npy", state.df[: state.n_vocab])
        np.save(tmp / "dead.npy", state.dead)
        info = {
            "format": FORMAT,
            "generation": state.generation,
            "segments": [s.name for s in state.segments],
            "n_vocab": state.n_vocab,
            "k1": state.k1,
            "b": state.b,
        }
        (tmp / "state.json").write_text(json.dumps(info))
        if target.exists():
            shutil.rmtree(target)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_state(folder: Path) -> State:
    """Open the state ``folder`` (``bm25/gen-G``) and its segments.

    :raises Unreadable: when anything is missing or inconsistent.
    """
    try:
        state = json.loads((folder / "state.json").read_text())
        if state.get("format") != FORMAT:
            raise Unreadable(f"{folder}: format {state.get('format')!r}")
        df = np.array(np.load(folder / "df.npy", allow_pickle=False), dtype=np.int64)
        dead = np.array(np.load(folder / "dead.npy", allow_pickle=False), dtype=np.int64)
    except (OSError, ValueError, EOFError, KeyError) as exc:
        raise Unreadable(f"{folder}: {exc}") from None
    segments = [Segment.load(folder.parent / name) for name in state["segments"]]
    terms = [t for s in segments for t in s.new_terms]
    n_vocab = int(state["n_vocab"])
    if len(terms) != n_vocab or len(df) != n_vocab:
        raise Unreadable(f"{folder}: vocabulary of {len(terms)} terms, expected {n_vocab}")
    if any(len(s.terms) and int(s.terms[-1]) >= n_vocab for s in segments):
        raise Unreadable(f"{folder}: a segment names terms beyond the vocabulary")
    vocab = dict(zip(terms, range(n_vocab), strict=True))
    return State(
        int(state["generation"]), segments, vocab, n_vocab, df, dead,
        k1=float(state["k1"]), b=float(state["b"]),
    )  # fmt: skip


def _generation(name: str) -> int:
    try:
        return int(name.removeprefix("gen-"))
    except ValueError:
        return -1


@contextlib.contextmanager
def flock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created when missing), held while inside."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def load_latest(base: Path, generation: int, writable: bool) -> State | None:
    """The newest readable state at or below ``generation``; unreadable ones are removed
    (when ``writable``: the caller holds the lock)."""
    if not base.is_dir():
        return None
    gens = sorted(
        (g, p) for p in base.iterdir() if p.name.startswith("gen-")
        for g in [_generation(p.name)] if 0 <= g <= generation
    )  # fmt: skip
    for _, path in reversed(gens):
        if not (path / "state.json").exists():
            continue  # an older layout (bm25s files): replaced when this state is saved
        try:
            return load_state(path)
        except Unreadable:
            if writable:
                shutil.rmtree(path, ignore_errors=True)
    return None


def cleanup(base: Path, generation: int, segments: list[Segment]) -> None:
    """Remove states other than ``gen-<generation>``, segments not in ``segments`` and
    leftovers (the lock is held)."""
    names = {s.name for s in segments} | {f"gen-{generation}", ".lock"}
    for path in base.iterdir():  # a newer state (a process with a later snapshot) stays
        if path.name.startswith("gen-") and _generation(path.name) > generation:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                state = json.loads((path / "state.json").read_text())
                names |= {path.name, *state["segments"]}
    for path in base.iterdir():
        if path.name in names:
            continue
        if path.name.startswith(("gen-", "seg-", ".tmp-inc-")):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


__all__ = [
    "FORMAT",
    "Segment",
    "State",
    "Unreadable",
    "cleanup",
    "flock",
    "load_latest",
    "load_state",
    "member",
    "merge",
    "ranges",
    "save_state",
    "segment_from_forward",
]
