"""Raw text -> sentences of words, and the vocabulary word2vec trains on.

A corpus is a text file (one sentence or document per line) or a folder of ``.txt``
files. Words are lower-cased runs of letters, digits and apostrophes, the same simple
tokenisation the word-vector models use, so a trained table answers the same lookups.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.data.text import open_text
from embedlab.errors import DatasetError, TrainingError

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-cased words of ``text`` (letters, digits, inner apostrophes)."""
    return _WORD.findall(text.lower())


def read_corpus(path: str | Path) -> list[list[str]]:
    """Sentences (lists of words) of a text file or of every ``.txt`` file under a folder.

    :raises DatasetError: the path does not exist or holds no words.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        files = sorted(p.rglob("*.txt"))
    elif p.exists():
        files = [p]
    else:
        raise DatasetError(
            f"Corpus {p} does not exist: give a text file or a folder of .txt files."
        )
    sentences: list[list[str]] = []
    for f in files:
        with open_text(f, DatasetError) as fh:
            sentences.extend(words for line in fh if (words := tokenize(line)))
    if not sentences:
        raise DatasetError(
            f"Corpus {p} holds no words: it needs plain text, one sentence per line."
        )
    return sentences


@dataclass(frozen=True)
class Vocabulary:
    """Words kept for training (count >= min_count), most frequent first."""

    words: list[str]
    counts: np.ndarray  # int64, aligned with words
    total_words: int  # every token of the corpus, kept or not

    @property
    def index(self) -> dict[str, int]:
        """word -> row."""
        return {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)


def build_vocabulary(sentences: Iterable[list[str]], min_count: int) -> Vocabulary:
    """Count words and keep those seen at least ``min_count`` times (ties by word)."""
    counter: Counter[str] = Counter()
    for s in sentences:
        counter.update(s)
    kept = sorted(
        ((w, c) for w, c in counter.items() if c >= min_count), key=lambda x: (-x[1], x[0])
    )
    return Vocabulary(
        words=[w for w, _ in kept],
        counts=np.array([c for _, c in kept], dtype=np.int64),
        total_words=sum(counter.values()),
    )


#: the smallest corpus worth training: vocabulary size and kept tokens.
MIN_VOCAB = 10


def check_corpus(
    sentences: list[list[str]], vocab: Vocabulary, window: int, min_count: int
) -> None:
    """Refuse a corpus too small for the window and min-count, saying what is needed.

    Needs at least :data:`MIN_VOCAB` words seen ``min_count`` times, and some sentence with
    more than ``window`` kept words (otherwise no window is ever full).

    :raises TrainingError: with the numbers that fall short.
    """
    index = vocab.index
    kept_tokens = sum(1 for s in sentences for w in s if w in index)
    longest = max((sum(1 for w in s if w in index) for s in sentences), default=0)
    problems = []
    if len(vocab) < MIN_VOCAB:
        problems.append(
            f"only {len(vocab)} distinct words appear at least {min_count} times "
            f"(need at least {MIN_VOCAB}; lower --min-count or add text)"
        )
    if longest <= window:
        problems.append(
            f"the longest sentence has {longest} words that are kept, not more than the "
            f"window of {window} (give sentences longer than {window} words or lower --window)"
        )
    if problems:
        raise TrainingError(
            f"The corpus is too small to train word2vec ({vocab.total_words} words, "
            f"{kept_tokens} kept): " + "; ".join(problems) + "."
        )
