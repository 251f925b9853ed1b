"""An incremental BM25 (Okapi) index for the embedded store: segments of raw term counts,
scored at query time with the collection's current statistics.

Why not bm25s per segment: bm25s stores ``idf x tf-part`` per (term, document), which bakes
in N, avgdl and every term's document frequency; after one added chunk all of them change
and every stored value is stale. Here a segment stores only what never changes for a chunk
(its term counts and its length), so adding chunks appends a segment and deleting chunks
marks them dead; nothing already written is rewritten.

A segment (one folder ``bm25/seg-<hex>/`` of ``.npy`` files, opened with ``mmap``) holds the
chunks of one catch-up, ids ascending: an inverted part (for each term present, the local
rows and term counts: what a query reads) and a forward part (for each chunk, its distinct
terms and counts: what a deletion reads to lower the document frequencies, and what a
merge re-inverts without reading texts again). Its ``vocab.txt`` lists the terms it added
to the global vocabulary, in id order, so the vocabulary is the concatenation over the
segments.

A state (``bm25/gen-G/``: ``state.json``, ``df.npy``, ``dead.npy``) names the segments of
generation G, the document frequency of every term over the live chunks, and the dead
chunk ids. Scoring uses exactly rank_bm25's ``BM25Okapi`` (see :mod:`.keyword`): N, avgdl,
every df and the epsilon floor's mean idf are those of the live chunks, so a caught-up index
gives the scores (float64 arithmetic, float32 out) and ranking of a rebuild on the same rows.

Catching up (:func:`open_keyword`): under an ``flock`` on ``bm25/.lock`` the newest readable
state at or below the wanted generation is loaded (or the one this process holds), the chunk
ids beyond the ones it covers are tokenized into a new segment, the ids no longer present
are marked dead (their terms' df lowered), and the new state is written to a temporary
folder and renamed into place. More than :data:`MAX_SEGMENTS` segments: all but the first
are merged; more than :data:`DEAD_FRACTION` dead: everything is merged (from the forward
parts, no tokenizing). A state or segment that cannot be read is removed and rebuilt; a
folder that cannot be written keeps the index in memory.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmptyInputError, InputError, StoreError
from embedlab.stores.keyword import EPSILON, K1, B, KeywordHits, tokenize
from embedlab.vectors.similarity import top_k

FORMAT = 1
#: more segments than this after a catch-up: every segment but the first is merged.
MAX_SEGMENTS = 8
#: more dead chunks than this fraction of all covered ones: everything is merged.
DEAD_FRACTION = 0.25
#: texts tokenized and counted at a time (bounds the token lists held).
TOKENIZE_BATCH = 20_000
#: new chunks fetched from the store per query when catching up.
FETCH_BATCH = 900

_ARRAYS = ("ids", "lengths", "terms", "indptr", "docs", "tfs", "fptr", "fterms", "ftfs")


class _Unreadable(Exception):
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

        :raises _Unreadable: when a file is missing, truncated or inconsistent.
        """
        try:
            info = json.loads((folder / "segment.json").read_text())
            arrays = {k: np.load(folder / f"{k}.npy", mmap_mode="r") for k in _ARRAYS}
            text = (folder / "vocab.txt").read_text(encoding="utf-8")
        except (OSError, ValueError, EOFError) as exc:
            raise _Unreadable(f"{folder}: {exc}") from None
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
            raise _Unreadable(f"{folder}: inconsistent segment")
        return cls(**arrays, new_terms=terms, name=folder.name)


def _segment_from_forward(
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


def _segment_from_texts(ids: np.ndarray, texts: Sequence[str], vocab: dict[str, int]) -> Segment:
    """Tokenize ``texts`` (one per id) into a segment; new terms are added to ``vocab``.

    Texts are counted in batches of :data:`TOKENIZE_BATCH`, so the token lists of only one
    batch are held at a time; what is kept is one (term, count) per distinct term of a chunk.
    """
    first_new = len(vocab)
    setdefault = vocab.setdefault
    lengths = np.zeros(len(texts), dtype=np.int32)
    parts_t: list[np.ndarray] = []
    parts_c: list[np.ndarray] = []
    sizes = np.zeros(len(texts), dtype=np.int64)
    for lo in range(0, len(texts), TOKENIZE_BATCH):
        flat: list[int] = []
        batch = texts[lo : lo + TOKENIZE_BATCH]
        for i, text in enumerate(batch, start=lo):
            toks = tokenize(text)
            lengths[i] = len(toks)
            flat.extend([setdefault(t, len(vocab)) for t in toks])
        width = max(len(vocab), 1)
        doc_of = np.repeat(np.arange(len(batch), dtype=np.int64), lengths[lo : lo + len(batch)])
        key = doc_of * width + np.asarray(flat, dtype=np.int64)
        uniq, counts = np.unique(key, return_counts=True)  # sorted by chunk, then term
        sizes[lo : lo + len(batch)] = np.bincount(uniq // width, minlength=len(batch))
        parts_t.append((uniq % width).astype(np.int32))
        parts_c.append(counts.astype(np.int32))
    n_new = len(vocab) - first_new
    new_terms = list(itertools.islice(reversed(vocab), n_new))[::-1] if n_new else []
    fptr = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    fterms = np.concatenate(parts_t) if parts_t else np.zeros(0, dtype=np.int32)
    ftfs = np.concatenate(parts_c) if parts_c else np.zeros(0, dtype=np.int32)
    return _segment_from_forward(ids, lengths, fptr, fterms, ftfs, new_terms)


def _merge(segments: list[Segment], dead: np.ndarray) -> Segment:
    """One segment of the live chunks of ``segments`` (in order), from their forward parts."""
    ids, lengths, rows_t, rows_c, counts, new_terms = [], [], [], [], [], []
    for seg in segments:
        keep = ~_member(np.asarray(seg.ids), dead)
        local = np.flatnonzero(keep)
        ids.append(np.asarray(seg.ids)[local])
        lengths.append(np.asarray(seg.lengths)[local])
        fptr = np.asarray(seg.fptr)
        sizes = (fptr[1:] - fptr[:-1])[local]
        take = _ranges(fptr[:-1][local], sizes)
        rows_t.append(np.asarray(seg.fterms)[take])
        rows_c.append(np.asarray(seg.ftfs)[take])
        counts.append(sizes)
        new_terms.extend(seg.new_terms)
    sizes = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    return _segment_from_forward(
        np.concatenate(ids),
        np.concatenate(lengths),
        np.r_[0, np.cumsum(sizes)].astype(np.int64),
        np.concatenate(rows_t),
        np.concatenate(rows_c),
        new_terms,
    )


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which ``values`` are in ``sorted_set`` (ascending): a binary search, no sort."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return np.asarray(sorted_set[pos] == values)


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for each start and size (vectorized)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(sizes)
    offsets = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - sizes), sizes)
    return np.arange(total, dtype=np.int64) + offsets


class FullTextIndex:
    """BM25 (Okapi, scores equal to rank_bm25's ``BM25Okapi``) over the live chunks of its
    segments; rows are the live chunk ids in ascending order (the store's row order).

    Built by :meth:`build` or :meth:`catch_up`; read-only once made (a catch-up returns a
    new object), so a query in another thread never sees half an update.
    """

    def __init__(
        self,
        generation: int,
        segments: list[Segment],
        vocab: dict[str, int],
        n_vocab: int,
        df: np.ndarray,
        dead: np.ndarray,
        *,
        k1: float = K1,
        b: float = B,
    ) -> None:
        self.generation = generation
        self.segments = segments
        self.vocab = vocab  # shared with later states: append-only; ids >= n_vocab ignored
        self.n_vocab = n_vocab
        self.df = df
        self.dead = np.asarray(dead, dtype=np.int64)
        self.k1, self.b = k1, b
        sizes = [s.n for s in segments]
        self.offsets = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        self.slot_ids = (
            np.concatenate([np.asarray(s.ids) for s in segments])
            if segments
            else np.zeros(0, dtype=np.int64)
        )
        alive = ~_member(self.slot_ids, self.dead)
        self.alive_slots = np.flatnonzero(alive)
        self.ids = self.slot_ids[self.alive_slots]
        self.n = len(self.ids)
        lengths = (
            np.concatenate([np.asarray(s.lengths) for s in segments])
            if segments
            else np.zeros(0, dtype=np.int32)
        )
        self.total_len = int(lengths[self.alive_slots].sum(dtype=np.int64))
        self.avgdl = self.total_len / self.n if self.n else 0.0
        seen = df > 0
        idf = np.zeros(len(df))
        n = float(self.n)
        idf[seen] = np.log(n - df[seen] + 0.5) - np.log(df[seen] + 0.5)
        if seen.any():  # fsum: the same mean whatever the terms' order (exact equality)
            mean = math.fsum(idf[seen].tolist()) / int(seen.sum())
            idf[seen & (idf < 0)] = EPSILON * mean
        self.idf = idf

    # --- building ---------------------------------------------------------------------
    @classmethod
    def build(cls, generation: int, ids: np.ndarray, texts: Sequence[str]) -> FullTextIndex:
        """Tokenize every text (``ids`` ascending, one per text) into one segment."""
        vocab: dict[str, int] = {}
        ids = np.asarray(ids, dtype=np.int64)
        seg = _segment_from_texts(ids, texts, vocab)
        df = np.bincount(seg.fterms, minlength=len(vocab)).astype(np.int64)
        segs = [seg] if seg.n else []
        return cls(generation, segs, vocab, len(vocab), df, np.zeros(0, dtype=np.int64))

    def catch_up(
        self, generation: int, ids: np.ndarray, fetch: Callable[[np.ndarray], Sequence[str]]
    ) -> FullTextIndex | None:
        """This index brought to the live chunk ``ids`` (ascending) of ``generation``.

        :param fetch: the texts of the given (new) chunk ids, in that order.
        :return: ``None`` when the ids are not a continuation (an id not above the ones
            covered that this index does not hold): the caller rebuilds.
        """
        ids = np.asarray(ids, dtype=np.int64)
        top = int(self.slot_ids[-1]) if len(self.slot_ids) else -1
        if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            return None
        split = int(np.searchsorted(ids, top, side="right"))
        old, new = ids[:split], ids[split:]
        if not bool(_member(old, self.ids).all()):
            return None
        removed = self.ids[~_member(self.ids, old)]
        df = self.df.copy()
        if len(removed):
            slots = np.searchsorted(self.slot_ids, removed)
            where = np.searchsorted(self.offsets, slots, side="right") - 1
            for s in np.unique(where):
                seg = self.segments[int(s)]
                local = slots[where == s] - self.offsets[int(s)]
                fptr = np.asarray(seg.fptr)
                take = _ranges(fptr[local], fptr[local + 1] - fptr[local])
                np.subtract.at(df, np.asarray(seg.fterms)[take], 1)
        dead = np.union1d(self.dead, removed)
        segments = list(self.segments)
        vocab = self.vocab
        if len(new):
            n_before = len(vocab)
            if n_before != self.n_vocab:  # a sibling state grew the shared vocabulary
                vocab = dict(list(vocab.items())[: self.n_vocab])
            seg = _segment_from_texts(new, fetch(new), vocab)
            segments.append(seg)
            df = np.r_[df, np.zeros(len(vocab) - len(df), dtype=np.int64)]
            df += np.bincount(seg.fterms, minlength=len(vocab))
        covered = sum(s.n for s in segments)
        if covered and len(dead) > DEAD_FRACTION * covered:
            segments, dead = [_merge(segments, dead)], np.zeros(0, dtype=np.int64)
        elif len(segments) > MAX_SEGMENTS:
            tail = segments[1:]
            tail_ids = np.concatenate([np.asarray(s.ids) for s in tail])
            segments = [segments[0], _merge(tail, dead)]
            dead = dead[~_member(dead, tail_ids)]
        return FullTextIndex(
            generation, segments, vocab, len(vocab), df, dead, k1=self.k1, b=self.b
        )

    # --- querying ---------------------------------------------------------------------
    def query_ids(self, query: str) -> tuple[list[str], list[int]]:
        """The query's tokens and the term ids of those in the vocabulary (repeats kept)."""
        tokens = tokenize(query)
        vocab = self.vocab
        out = [vocab[t] for t in tokens if t in vocab]
        return tokens, [t for t in out if t < self.n_vocab and self.df[t] > 0]

    def get_scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for ``query`` (float32, ``(n,)``)."""
        _, terms = self.query_ids(query)
        slot_scores = np.zeros(len(self.slot_ids), dtype=np.float64)
        k1, b, avgdl = self.k1, self.b, self.avgdl or 1.0
        for term in terms:  # a repeated query token counts twice, as in rank_bm25
            idf = self.idf[term]
            for seg, off in zip(self.segments, self.offsets[:-1], strict=True):
                found = seg.postings(term)
                if found is None:
                    continue
                docs, tfs = found
                tf = tfs.astype(np.float64)
                dl = np.asarray(seg.lengths)[docs]
                val = idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
                slot_scores[int(off) + docs.astype(np.int64)] += val
        if len(self.alive_slots) == len(slot_scores):  # no dead chunk: slots are rows
            return slot_scores.astype(np.float32)
        return slot_scores[self.alive_slots].astype(np.float32)

    def search(self, query: str, k: int = 10, *, rows: np.ndarray | None = None) -> KeywordHits:
        """The ``k`` best rows (ties by lower row); rows scoring 0 are left out.

        :param rows: when given, only these row positions can be returned (a filter).
        """
        if not query.strip():
            raise EmptyInputError("The query is empty: type some words to search for.")
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}.")
        tokens, _ = self.query_ids(query)
        if self.n == 0:
            empty = np.zeros(0)
            return KeywordHits(empty.astype(np.int64), empty.astype(np.float32), tokens)
        scores = self.get_scores(query)
        if rows is not None:
            masked = np.zeros_like(scores)
            masked[rows] = scores[rows]
            scores = masked
        scored = np.flatnonzero(scores > 0)  # only these can be returned: rank them alone
        order = scored[top_k(scores[scored], min(k, len(scored)))] if len(scored) else scored
        return KeywordHits(order.astype(np.int64), scores[order], tokens)

    # --- disk -------------------------------------------------------------------------
    def save(self, base: Path) -> None:
        """Write unsaved segments, then ``base/gen-G`` (temporary folder, then rename).

        :raises OSError: when it cannot be written (the index stays usable in memory).
        """
        for seg in self.segments:
            if not seg.name:
                seg.save(base)
        target = base / f"gen-{self.generation}"
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-inc-", dir=base))
        try:
            np.save(tmp / "df.npy", self.df[: self.n_vocab])
            np.save(tmp / "dead.npy", self.dead)
            state = {
                "format": FORMAT,
                "generation": self.generation,
                "segments": [s.name for s in self.segments],
                "n_vocab": self.n_vocab,
                "k1": self.k1,
                "b": self.b,
            }
            (tmp / "state.json").write_text(json.dumps(state))
            if target.exists():
                shutil.rmtree(target)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, folder: Path) -> FullTextIndex:
        """Open the state ``folder`` (``bm25/gen-G``) and its segments.

        :raises _Unreadable: when anything is missing or inconsistent.
        """
        try:
            state = json.loads((folder / "state.json").read_text())
            if state.get("format") != FORMAT:
                raise _Unreadable(f"{folder}: format {state.get('format')!r}")
            df = np.array(np.load(folder / "df.npy", allow_pickle=False), dtype=np.int64)
            dead = np.array(np.load(folder / "dead.npy", allow_pickle=False), dtype=np.int64)
        except (OSError, ValueError, EOFError, KeyError) as exc:
            raise _Unreadable(f"{folder}: {exc}") from None
        segments = [Segment.load(folder.parent / name) for name in state["segments"]]
        terms = [t for s in segments for t in s.new_terms]
        n_vocab = int(state["n_vocab"])
        if len(terms) != n_vocab or len(df) != n_vocab:
            raise _Unreadable(f"{folder}: vocabulary of {len(terms)} terms, expected {n_vocab}")
        if any(len(s.terms) and int(s.terms[-1]) >= n_vocab for s in segments):
            raise _Unreadable(f"{folder}: a segment names terms beyond the vocabulary")
        vocab = dict(zip(terms, range(n_vocab), strict=True))
        return cls(
            int(state["generation"]), segments, vocab, n_vocab, df, dead,
            k1=float(state["k1"]), b=float(state["b"]),
        )  # fmt: skip


def _generation(name: str) -> int:
    try:
        return int(name.removeprefix("gen-"))
    except ValueError:
        return -1


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _load_latest(base: Path, generation: int, writable: bool) -> FullTextIndex | None:
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
            return FullTextIndex.load(path)
        except _Unreadable:
            if writable:
                shutil.rmtree(path, ignore_errors=True)
    return None


def _cleanup(base: Path, keep: FullTextIndex) -> None:
    """Remove other states, unreferenced segments and leftovers (the lock is held)."""
    names = {s.name for s in keep.segments} | {f"gen-{keep.generation}", ".lock"}
    for path in base.iterdir():  # a newer state (a process with a later snapshot) stays
        if path.name.startswith("gen-") and _generation(path.name) > keep.generation:
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


def open_keyword(
    folder: Path,
    generation: int,
    ids: np.ndarray,
    fetch: Callable[[np.ndarray], Sequence[str]],
    texts: Callable[[], Sequence[str]],
    prior: FullTextIndex | None = None,
) -> FullTextIndex:
    """The keyword index of the live chunk ``ids`` (ascending) at ``generation``, kept under
    ``folder/bm25`` and caught up from the newest state there (or ``prior``, this process's
    previous one) rather than rebuilt.

    :param fetch: the texts of the given chunk ids (the new ones of a catch-up).
    :param texts: every text, aligned with ``ids`` (a build from nothing).
    """
    base = folder / "bm25"
    try:
        base.mkdir(parents=True, exist_ok=True)
        writable = os.access(base, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        return _advance(base, generation, ids, fetch, texts, prior, writable=False)
    try:
        lock = _flock(base / ".lock")
        lock.__enter__()
    except OSError:
        return _advance(base, generation, ids, fetch, texts, prior, writable=False)
    try:
        return _advance(base, generation, ids, fetch, texts, prior, writable=True)
    finally:
        lock.__exit__(None, None, None)


def _advance(
    base: Path,
    generation: int,
    ids: np.ndarray,
    fetch: Callable[[np.ndarray], Sequence[str]],
    texts: Callable[[], Sequence[str]],
    prior: FullTextIndex | None,
    *,
    writable: bool,
) -> FullTextIndex:
    start = _load_latest(base, generation, writable)
    newer = start is None or (prior is not None and prior.generation > start.generation)
    if prior is not None and prior.generation <= generation and newer:
        start = prior
    if start is not None and start.generation == generation and np.array_equal(start.ids, ids):
        return start
    made = None
    if start is not None:
        try:
            made = start.catch_up(generation, ids, fetch)
        except StoreError:  # a new chunk removed since this snapshot: rebuild from it
            made = None
    if made is None or not np.array_equal(made.ids, ids):
        made = FullTextIndex.build(generation, ids, list(texts()))
    if writable:
        try:
            made.save(base)
            _cleanup(base, made)
        except OSError:
            pass  # served from memory; the next process tries again
    return made


def store_fetch(index: Any) -> Callable[[np.ndarray], list[str]]:
    """Texts of chunk ids read from ``index`` (``get_chunks``, in batches)."""

    def fetch(ids: np.ndarray) -> list[str]:
        out: list[str] = []
        for start in range(0, len(ids), FETCH_BATCH):
            part = [int(i) for i in ids[start : start + FETCH_BATCH]]
            out.extend(c.text for c in index.get_chunks(part))
        return out

    return fetch


__all__ = ["DEAD_FRACTION", "MAX_SEGMENTS", "FullTextIndex", "Segment", "open_keyword"]
