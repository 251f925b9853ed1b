"""An incremental BM25 (Okapi) index for the embedded store: segments of raw term counts,
scored at query time with the collection's current statistics.

Why not bm25s per segment: bm25s stores ``idf x tf-part`` per (term, document), which bakes
in N, avgdl and every term's document frequency; after one added chunk all of them change
and every stored value is stale. Here a segment stores only what never changes for a chunk
(its term counts and its length), so adding chunks appends a segment and deleting chunks
marks them dead; nothing already written is rewritten.

The segments (inverted and forward parts, the vocabulary each adds) and the states naming
them (``bm25/gen-G``: segments, document frequencies, dead chunk ids) are files, written
and read by :mod:`.fulltext_segments`; this module tokenizes texts into segments and
scores over them. Scoring uses exactly rank_bm25's ``BM25Okapi`` (see :mod:`.keyword`): N,
avgdl, every df and the epsilon floor's mean idf are those of the live chunks, so a
caught-up index gives the scores (float64 arithmetic, float32 out) and ranking of a rebuild
on the same rows.

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

import itertools
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmptyInputError, InputError, StoreError
from embedlab.stores.fulltext_segments import (
    Segment,
    State,
    cleanup,
    flock,
    load_latest,
    load_state,
    member,
    merge,
    ranges,
    save_state,
    segment_from_forward,
)
from embedlab.stores.keyword import EPSILON, K1, B, KeywordHits, tokenize
from embedlab.vectors.similarity import top_k

#: more segments than this after a catch-up: every segment but the first is merged.
MAX_SEGMENTS = 8
#: more dead chunks than this fraction of all covered ones: everything is merged.
DEAD_FRACTION = 0.25
#: texts tokenized and counted at a time (bounds the token lists held).
TOKENIZE_BATCH = 20_000
#: new chunks fetched from the store per query when catching up.
FETCH_BATCH = 900


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
    return segment_from_forward(ids, lengths, fptr, fterms, ftfs, new_terms)


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
        alive = ~member(self.slot_ids, self.dead)
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
        if not bool(member(old, self.ids).all()):
            return None
        removed = self.ids[~member(self.ids, old)]
        df = self.df.copy()
        if len(removed):
            slots = np.searchsorted(self.slot_ids, removed)
            where = np.searchsorted(self.offsets, slots, side="right") - 1
            for s in np.unique(where):
                seg = self.segments[int(s)]
                local = slots[where == s] - self.offsets[int(s)]
                fptr = np.asarray(seg.fptr)
                take = ranges(fptr[local], fptr[local + 1] - fptr[local])
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
            segments, dead = [merge(segments, dead)], np.zeros(0, dtype=np.int64)
        elif len(segments) > MAX_SEGMENTS:
            tail = segments[1:]
            tail_ids = np.concatenate([np.asarray(s.ids) for s in tail])
            segments = [segments[0], merge(tail, dead)]
            dead = dead[~member(dead, tail_ids)]
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
        state = State(
            self.generation, self.segments, self.vocab, self.n_vocab, self.df, self.dead,
            k1=self.k1, b=self.b,
        )  # fmt: skip
        save_state(base, state)

    @classmethod
    def load(cls, folder: Path) -> FullTextIndex:
        """Open the state ``folder`` (``bm25/gen-G``) and its segments.

        :raises ~embedlab.stores.fulltext_segments.Unreadable: when anything is missing or
            inconsistent.
        """
        return cls.from_state(load_state(folder))

    @classmethod
    def from_state(cls, s: State) -> FullTextIndex:
        """The index of a state read from disk."""
        return cls(s.generation, s.segments, s.vocab, s.n_vocab, s.df, s.dead, k1=s.k1, b=s.b)


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
        lock = flock(base / ".lock")
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
    latest = load_latest(base, generation, writable)
    start = None if latest is None else FullTextIndex.from_state(latest)
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
            cleanup(base, made.generation, made.segments)
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
