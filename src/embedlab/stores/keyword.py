"""Keyword retrieval: BM25 (Okapi) over bm25s, scoring exactly as rank_bm25's ``BM25Okapi``.

Tokenisation (:func:`tokenize`): Unicode NFKC, lower case, words of two or more word
characters (the regex ``(?u)\\b\\w\\w+\\b``, scikit-learn's and bm25s' default), English stop
words removed (bm25s' ``STOPWORDS_EN``). No stemming.

Scoring (Robertson et al., "Okapi at TREC-3", 1994), with ``k1 = 1.5``, ``b = 0.75``::

    score(q, d) = sum over query tokens t of  idf(t) * tf(t, d) * (k1 + 1)
                                             / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))
    idf(t) = ln((N - df(t) + 0.5) / (df(t) + 0.5)), and for a term in more than half of the
             documents (negative idf) epsilon * mean idf with epsilon = 0.25

That idf floor is rank_bm25's ``BM25Okapi``; bm25s' ``robertson`` idf clips such terms to 0
instead. bm25s stores ``idf * tf-part`` per (term, document) in a sparse matrix, so the index
is built with the always-positive ``lucene`` idf and each term's column is rescaled by
``(k1 + 1) * okapi_idf / lucene_idf`` (bm25s leaves the constant ``k1 + 1`` out of its
tf part): retrieval stays bm25s' sparse lookup and the scores equal
``BM25Okapi.get_scores`` (tests/search check it to 1e-5). A query token repeated counts
twice, as in rank_bm25.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from embedlab.errors import EmptyInputError, InputError
from embedlab.vectors.similarity import top_k

K1 = 1.5
B = 0.75
EPSILON = 0.25
TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")


@functools.cache
def stopwords() -> frozenset[str]:
    """bm25s' English stop words, loaded on first use: importing bm25s pulls in scipy and
    numba (most of a second), which a dense-only query never needs."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


#: the stop words :func:`tokenize` removes (``stopwords()``, read through the module
#: ``__getattr__`` below so that importing this module does not import bm25s).
STOPWORDS: frozenset[str]


def __getattr__(name: str) -> Any:
    if name == "STOPWORDS":
        return stopwords()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def tokenize(text: str) -> list[str]:
    """The BM25 tokens of ``text`` (see the module docstring)."""
    norm = unicodedata.normalize("NFKC", text).lower()
    stop = stopwords()
    return [t for t in TOKEN_RE.findall(norm) if t not in stop]


@dataclass(frozen=True)
class KeywordHits:
    """Top-k documents of one query: row positions and BM25 scores, best first."""

    ids: np.ndarray
    scores: np.ndarray
    query_tokens: list[str]


class KeywordSearch(Protocol):
    """What a first stage needs of a keyword index: :class:`BM25Index` (built whole, rows
    0..n-1) and :class:`~embedlab.stores.fulltext.FullTextIndex` (the embedded store's
    incremental one, rows = live chunk ids ascending) give the same scores and rankings."""

    n: int

    def search(self, query: str, k: int = 10, *, rows: np.ndarray | None = None) -> KeywordHits: ...

    def get_scores(self, query: str) -> np.ndarray: ...


class BM25Index:
    """BM25 over a list of texts (row positions 0..n-1 are the document ids).

    :param texts: the documents; empty ones are allowed and never match.
    """

    def __init__(self, texts: list[str] | None = None, *, k1: float = K1, b: float = B) -> None:
        import bm25s

        self.k1, self.b = k1, b
        self._bm25: Any = bm25s.BM25(k1=k1, b=b, method="robertson", idf_method="lucene")
        self.n = 0
        if texts is not None:
            self._build([tokenize(t) for t in texts])

    def _build(self, corpus: list[list[str]]) -> None:
        self.n = len(corpus)
        if self.n == 0:
            raise EmptyInputError("A BM25 index needs at least one document.")
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in corpus]
        if not vocab:
            vocab[""] = 0  # a corpus of stop words only: one dummy term keeps bm25s happy
        self._bm25.scores = self._bm25.build_index_from_ids(
            unique_token_ids=list(vocab.values()), corpus_token_ids=ids, show_progress=False
        )
        self._bm25.vocab_dict = vocab
        self._bm25.unique_token_ids_set = set(vocab.values())
        self._rescale_to_okapi(ids, len(vocab))

    def _rescale_to_okapi(self, ids: list[list[int]], n_vocab: int) -> None:
        df = np.zeros(n_vocab, dtype=np.float64)
        for doc in ids:
            for t in set(doc):
                df[t] += 1
        n = float(self.n)
        seen = df > 0
        okapi = np.zeros(n_vocab)
        okapi[seen] = np.log(n - df[seen] + 0.5) - np.log(df[seen] + 0.5)
        if seen.any():
            average = okapi[seen].mean()
            okapi[seen & (okapi < 0)] = EPSILON * average
        lucene = np.ones(n_vocab)
        lucene[seen] = np.log(1 + (n - df[seen] + 0.5) / (df[seen] + 0.5))
        # bm25s' tf part leaves out the constant (k1 + 1) factor; BM25Okapi keeps it.
        ratio = (self.k1 + 1) * okapi / lucene
        scores = self._bm25.scores
        indptr = scores["indptr"]
        data = scores["data"].astype(np.float64)
        counts = np.diff(indptr)
        data *= np.repeat(ratio[: len(counts)], counts)
        scores["data"] = data.astype(np.float32)

    # --- querying -------------------------------------------------------------------

    def query_ids(self, query: str) -> tuple[list[str], list[int]]:
        """The query's tokens and the ids of those in the vocabulary (repeats kept)."""
        tokens = tokenize(query)
        vocab = self._bm25.vocab_dict
        return tokens, [vocab[t] for t in tokens if t in vocab]

    def get_scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query`` (float32, ``(n,)``)."""
        _, ids = self.query_ids(query)
        if not ids:
            return np.zeros(self.n, dtype=np.float32)
        # bm25s sums over the ids given, so a repeated query token counts twice.
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def search(self, query: str, k: int = 10, *, rows: np.ndarray | None = None) -> KeywordHits:
        """The ``k`` best documents (ties by lower position); documents scoring 0 are left out.

        :param rows: when given, only these row positions can be returned (a filter).
        """
        if not query.strip():
            raise EmptyInputError("The query is empty: type some words to search for.")
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}.")
        tokens, _ = self.query_ids(query)
        scores = self.get_scores(query)
        if rows is not None:
            masked = np.zeros_like(scores)
            masked[rows] = scores[rows]
            scores = masked
        order = top_k(scores, k)
        order = order[scores[order] > 0]
        return KeywordHits(order.astype(np.int64), scores[order], tokens)

    # --- persistence ----------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write the index as bm25s' plain ``.npy`` + JSON files under ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(folder))
        (folder / "embedlab.json").write_text(
            json.dumps({"n": self.n, "k1": self.k1, "b": self.b, "epsilon": EPSILON})
        )

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        """Open an index written by :meth:`save` (memory-mapped, no pickle)."""
        import bm25s

        meta = json.loads((folder / "embedlab.json").read_text())
        self = cls(None, k1=meta["k1"], b=meta["b"])
        self._bm25 = bm25s.BM25.load(str(folder), mmap=True)
        self.n = int(meta["n"])
        return self

    @classmethod
    def cached(cls, folder: Path, generation: int, texts_fn: Any) -> BM25Index:
        """The index for ``generation`` under ``folder/bm25/gen-N``, built once.

        :param texts_fn: called (no arguments) for the texts when the index must be built.

        Safe with several processes at once and with faults: each writer saves into its own
        temporary folder and renames it into place; a process that loses that race uses the
        winner's copy; a copy that cannot be read (half written, damaged) is rebuilt; a
        folder that cannot be written (read-only home, full disk) leaves the index in memory
        only. Older generations are removed, so the BM25 index never lags the chunks.
        """
        base = folder / "bm25"
        target = base / f"gen-{generation}"
        if (target / "embedlab.json").exists():
            try:
                return cls.load(target)
            except Exception:  # noqa: BLE001 - any unreadable copy is rebuilt below
                shutil.rmtree(target, ignore_errors=True)
        index = cls(list(texts_fn()))
        try:
            base.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-gen-{generation}-", dir=base))
        except OSError:
            return index  # cannot write here: serve from memory
        try:
            index.save(tmp)
            os.rename(tmp, target)  # atomic; fails if another process renamed first
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            return index  # lost the race, or no room: this copy in memory is as good
        for old in base.iterdir():
            if old.name.startswith("gen-") and _generation(old.name) < generation:
                shutil.rmtree(old, ignore_errors=True)
        return index


def _generation(name: str) -> int:
    try:
        return int(name.removeprefix("gen-"))
    except ValueError:
        return -1


def okapi_idf(df: int, n: int) -> float:
    """rank_bm25's BM25Okapi idf before the epsilon floor: ``ln((N - df + .5) / (df + .5))``."""
    return math.log(n - df + 0.5) - math.log(df + 0.5)
