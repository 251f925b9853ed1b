"""Word benchmarks: analogies (3CosAdd, 3CosMul) and word-pair similarity, as gensim scores them.

Both follow gensim 4.4's ``KeyedVectors.evaluate_word_analogies`` and ``evaluate_word_pairs``
step by step, so the numbers are the same on the same vectors:

- only the first ``restrict_vocab`` words count (the vocabulary is in frequency order); with
  ``case_insensitive`` every word is upper-cased and the first (most frequent) case variant
  wins;
- an analogy with any word outside that vocabulary is skipped and counted as out of
  vocabulary; otherwise the answer is the best of the top 5 candidates (inputs excluded)
  whose upper-cased form is not an input;
- a word pair with an unknown word is skipped and counted; similarity is the cosine.

3CosMul (Levy & Goldberg 2014, cosines shifted to [0, 1]) searches the same restricted
vocabulary as 3CosAdd. gensim's ``evaluate_word_analogies`` only does 3CosAdd, and its
``most_similar_cosmul`` ignores ``restrict_vocab``, so the two agree when ``restrict_vocab``
covers the whole vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from embedlab.data.text import open_text
from embedlab.errors import DatasetError, InputError
from embedlab.explore.analogy import METHODS as ANALOGY_METHODS
from embedlab.explore.analogy import analogy_scores
from embedlab.vectors.similarity import top_k_rows

TOPN = 5  # gensim looks at the top 5 candidates
CHUNK = 256  # questions scored at once


class WordTable(Protocol):
    """What the benchmarks need: ``words`` in frequency order and a ``matrix`` aligned with them
    (``embedlab.models.glove.WordVectors`` has both)."""

    words: Sequence[str]
    matrix: np.ndarray


@dataclass(frozen=True)
class SectionScore:
    """Accuracy of one section of an analogy file (``correct / (correct + incorrect)``)."""

    section: str
    correct: int
    incorrect: int

    @property
    def total(self) -> int:
        return self.correct + self.incorrect

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class AnalogyResult:
    """Per-section and overall analogy accuracy (the last section is ``Total accuracy``)."""

    method: str
    restrict_vocab: int
    sections: list[SectionScore]
    questions: int
    oov: int
    skipped_lines: int = 0
    examples: dict[str, list[tuple[str, str, str, str, str]]] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return self.sections[-1].accuracy

    @property
    def oov_ratio(self) -> float:
        """Share of questions skipped for out-of-vocabulary words, in percent (as gensim)."""
        return 100.0 * self.oov / self.questions if self.questions else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "restrict_vocab": self.restrict_vocab,
            "accuracy": self.accuracy,
            "questions": self.questions,
            "oov": self.oov,
            "oov_ratio": self.oov_ratio,
            "sections": [
                {
                    "section": s.section,
                    "correct": s.correct,
                    "total": s.total,
                    "accuracy": s.accuracy,
                }
                for s in self.sections
            ],
        }


@dataclass(frozen=True)
class WordPairsResult:
    """Correlation of the model's cosines with human similarity scores."""

    pearson: float
    pearson_p: float
    spearman: float
    spearman_p: float
    pairs: int
    oov: int
    skipped_lines: int = 0

    @property
    def oov_ratio(self) -> float:
        """Share of pairs skipped for out-of-vocabulary words, in percent (as gensim)."""
        return 100.0 * self.oov / (self.pairs + self.oov) if self.pairs + self.oov else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "pearson": self.pearson,
            "spearman": self.spearman,
            "pairs": self.pairs,
            "oov": self.oov,
            "oov_ratio": self.oov_ratio,
        }


def _table(word_vectors: Any) -> tuple[list[str], np.ndarray]:
    words, matrix = getattr(word_vectors, "words", None), getattr(word_vectors, "matrix", None)
    if words is None or matrix is None:
        raise InputError(
            "Word benchmarks need a word-vector model (with .words and .matrix), such as "
            "glove-50d or a trained word2vec folder; sentence models have no vocabulary."
        )
    m = np.asarray(matrix, dtype=np.float32)
    if m.ndim != 2 or m.shape[0] != len(words):
        raise InputError(f"{len(words)} words but a matrix of shape {m.shape}.")
    return list(words), m


def _vocab(words: list[str], limit: int, case_insensitive: bool) -> dict[str, int]:
    """gensim's ``ok_vocab``: key -> index, the first case variant winning."""
    fold: Callable[[str], str] = str.upper if case_insensitive else str
    return {fold(w): i for i, w in reversed(list(enumerate(words[:limit])))}


def _read_questions(
    path: Path, fold: Callable[[str], str]
) -> tuple[list[str], list[tuple[int, list[str]]], int]:
    sections: list[str] = []
    questions: list[tuple[int, list[str]]] = []  # (section number, [a, b, c, expected])
    skipped = 0
    with open_text(path, DatasetError) as f:
        for n, line in enumerate(f, 1):
            if line.startswith(": "):
                sections.append(line.lstrip(": ").strip())
                continue
            if not sections:
                raise DatasetError(
                    f"{path}:{n}: expected a section header ': name' before questions."
                )
            parts = line.split()
            if len(parts) != 4:
                skipped += 1
                continue
            questions.append((len(sections) - 1, [fold(w) for w in parts]))
    if not sections:
        raise DatasetError(f"{path} holds no ': section' header and no analogy questions.")
    return sections, questions, skipped


def _scores(
    method: str, raw: np.ndarray, norms: np.ndarray, unit: np.ndarray, q: np.ndarray
) -> np.ndarray:
    """Scores of every vocabulary word (rows) for each question ``q0 : q1 :: q2 : ?``
    (columns): the analogy ``q1 - q0 + q2`` in gensim's arithmetic, by the explorer's scorer."""
    a, b, c = unit[q[:, 1]], unit[q[:, 0]], unit[q[:, 2]]
    return analogy_scores(method, unit, a, b, c, raw=raw, norms=norms)


METHODS: tuple[str, ...] = tuple(ANALOGY_METHODS)  # the explorer's, in one place


def evaluate_analogies(
    word_vectors: Any,
    path: str | Path,
    restrict_vocab: int = 300000,
    method: str = "3cosadd",
    *,
    case_insensitive: bool = True,
    sections: Sequence[str] | None = None,
) -> AnalogyResult:
    """Analogy accuracy per section and overall, equal to gensim's ``evaluate_word_analogies``.

    :param word_vectors: a word-vector model (``.words`` in frequency order, ``.matrix``).
    :param path: an analogy file (``: section`` headers, then ``a b c expected`` lines), e.g.
        ``gensim_test_file("questions-words.txt")``.
    :param restrict_vocab: only the first this many words are known and searched.
    :param method: ``"3cosadd"`` or ``"3cosmul"``.
    :param sections: keep only these sections (all by default).
    """
    if method not in METHODS:
        raise InputError(f"Unknown analogy method {method!r}: use one of {', '.join(METHODS)}.")
    words, matrix = _table(word_vectors)
    fold: Callable[[str], str] = str.upper if case_insensitive else str
    names, questions, skipped = _read_questions(Path(path), fold)
    if sections is not None:
        unknown = sorted(set(sections) - set(names))
        if unknown:
            raise InputError(
                f"No section {unknown[0]!r} in {path}; sections are {', '.join(names)}."
            )
        keep = {i for i, s in enumerate(names) if s in sections}
        questions = [qq for qq in questions if qq[0] in keep]
        names = [s if i in keep else "" for i, s in enumerate(names)]
    limit = min(restrict_vocab, len(words))
    ok = _vocab(words, limit, case_insensitive)
    raw = matrix[:limit]
    norms = np.linalg.norm(raw, axis=1)
    unit = raw / norms[:, None]
    known = [(s, [ok[w] for w in ws], ws) for s, ws in questions if all(w in ok for w in ws)]
    correct = np.zeros(len(names), dtype=np.int64)
    incorrect = np.zeros(len(names), dtype=np.int64)
    examples: dict[str, list[tuple[str, str, str, str, str]]] = {}
    for start in range(0, len(known), CHUNK):
        batch = known[start : start + CHUNK]
        q = np.array([ids[:3] for _, ids, _ in batch], dtype=np.int64)
        scores = _scores(method, raw, norms, unit, q).T  # (batch, vocab)
        rows = np.arange(len(batch))[:, None]
        scores[rows, q] = -np.inf  # the inputs are never an answer
        top, _ = top_k_rows(scores, TOPN)
        for (sec, _, ws), cands in zip(batch, top, strict=True):
            predicted = _pick(words, cands, set(ws[:3]), fold)
            if predicted == ws[3]:
                correct[sec] += 1
            else:
                incorrect[sec] += 1
                ex = examples.setdefault(names[sec], [])
                if len(ex) < 5:
                    ex.append((*ws, predicted))  # type: ignore[arg-type]
    scores_out = [
        SectionScore(name, int(correct[i]), int(incorrect[i]))
        for i, name in enumerate(names)
        if name
    ]
    scores_out.append(SectionScore("Total accuracy", int(correct.sum()), int(incorrect.sum())))
    return AnalogyResult(
        method,
        restrict_vocab,
        scores_out,
        len(questions),
        len(questions) - len(known),
        skipped,
        examples,
    )


def _pick(
    words: list[str], candidates: np.ndarray, ignore: set[str], fold: Callable[[str], str]
) -> str:
    """gensim's choice: the first candidate not equal to an input, else the last one seen."""
    predicted = ""
    for i in candidates:
        predicted = fold(words[int(i)])
        if predicted not in ignore:
            break
    return predicted


def _unit32(v: np.ndarray) -> np.ndarray:
    """gensim's ``unitvec``: scaled by 1/norm in float64, back to float32 (same rounding)."""
    v64 = v.astype(np.float64)
    norm = float(np.sqrt(np.dot(v64, v64)))
    return (v64 * (1.0 / norm)).astype(np.float32) if norm > 0 else v


def evaluate_word_pairs(
    word_vectors: Any,
    path: str | Path,
    restrict_vocab: int = 300000,
    *,
    delimiter: str = "\t",
    case_insensitive: bool = True,
) -> WordPairsResult:
    """Spearman and Pearson of cosines against human scores, equal to gensim's
    ``evaluate_word_pairs``; pairs with an unknown word are counted in ``oov`` and skipped.

    :param path: ``word1<TAB>word2<TAB>score`` lines; ``#`` lines are comments (WordSim-353,
        MEN, SimLex in this layout).
    """
    from scipy import stats

    words, matrix = _table(word_vectors)
    fold: Callable[[str], str] = str.upper if case_insensitive else str
    ok = _vocab(words, min(restrict_vocab, len(words)), case_insensitive)
    gold: list[float] = []
    model: list[float] = []
    oov = skipped = 0
    with open_text(path, DatasetError) as f:
        for line in f:
            if not line or line.startswith("#"):
                continue
            parts = line.split(delimiter)
            try:
                a, b, score = fold(parts[0]), fold(parts[1]), float(parts[2])
                if len(parts) != 3:
                    raise ValueError
            except (ValueError, IndexError):
                skipped += 1
                continue
            if a not in ok or b not in ok:
                oov += 1
                continue
            gold.append(score)
            model.append(float(np.dot(_unit32(matrix[ok[a]]), _unit32(matrix[ok[b]]))))
    if not gold:
        raise DatasetError(
            f"No usable word pair in {path}: expected 'word1<TAB>word2<TAB>score' lines with "
            f"known words ({oov} pairs had unknown words, {skipped} lines were malformed)."
        )
    pearson = stats.pearsonr(gold, model)
    spearman = stats.spearmanr(gold, model)
    return WordPairsResult(
        float(pearson[0]),
        float(pearson[1]),
        float(spearman[0]),
        float(spearman[1]),
        len(gold),
        oov,
        skipped,
    )


__all__ = [
    "METHODS",
    "AnalogyResult",
    "SectionScore",
    "WordPairsResult",
    "WordTable",
    "evaluate_analogies",
    "evaluate_word_pairs",
]
