"""Train word2vec on raw text and save a word-vector model the lab loads by path.

:func:`train_word2vec` reads the corpus, checks it is big enough, runs an engine
(:data:`~embedlab.train.w2v_engines.ENGINES`) one epoch at a time, records the loss and
the similarity of watched word pairs after each epoch, and writes a WordVectors folder
(``vectors.npy`` + ``words.txt``, open it with ``load_model("words:<folder>")``) plus
``train.json``. Ctrl-C saves a checkpoint; ``resume=True`` continues from it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from embedlab.errors import InputError, TrainingError
from embedlab.evaluate.words import (
    AnalogyResult,
    WordPairsResult,
    evaluate_analogies,
    evaluate_word_pairs,
)
from embedlab.models.glove import WordVectors
from embedlab.train.common import prepare_output, read_run, write_run
from embedlab.train.corpus import build_vocabulary, check_corpus, read_corpus
from embedlab.train.w2v_engines import ENGINES, Engine, Word2VecConfig
from embedlab.vectors.similarity import normalize, top_k

CHECKPOINT = "checkpoint"


@dataclass
class EpochRecord:
    """What one epoch did."""

    epoch: int
    loss: float
    words: int
    seconds: float
    alpha_end: float
    similarities: dict[str, float] = field(default_factory=dict)  # "a|b" -> cosine


@dataclass(frozen=True)
class WordEvaluation:
    """Analogy accuracy (Google questions) and WordSim-353 correlation of a word table."""

    analogies: AnalogyResult
    word_pairs: WordPairsResult

    @property
    def analogy_accuracy(self) -> float:
        return self.analogies.accuracy

    @property
    def wordsim_spearman(self) -> float:
        return self.word_pairs.spearman

    def to_dict(self) -> dict[str, object]:
        return {"analogies": self.analogies.to_dict(), "word_pairs": self.word_pairs.to_dict()}


@dataclass
class Word2VecResult:
    """A finished (or interrupted) word2vec run."""

    out: str
    config: dict[str, object]
    vocab_size: int
    corpus_words: int
    loss_label: str
    history: list[EpochRecord]
    seconds: float
    words_per_second: float
    interrupted: bool = False
    neighbours: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    evaluation: WordEvaluation | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record (what ``train.json`` holds)."""
        d = asdict(self)
        d["evaluation"] = self.evaluation.to_dict() if self.evaluation else None
        return d

    @property
    def resume_hint(self) -> str:
        """The command that continues this run."""
        return f"embedlab train word2vec CORPUS --out {self.out} --resume"


def nearest(
    words: list[str], matrix: np.ndarray, queries: Sequence[str], k: int = 8
) -> dict[str, list[tuple[str, float]]]:
    """The ``k`` nearest words (cosine) of each known query word."""
    index = {w: i for i, w in enumerate(words)}
    unit = normalize(matrix)
    out = {}
    for q in queries:
        if q not in index:
            continue
        sims = unit @ unit[index[q]]
        sims[index[q]] = -np.inf
        out[q] = [(words[i], float(sims[i])) for i in top_k(sims, k)]
    return out


def default_probe_words(words: list[str], n: int = 5) -> list[str]:
    """A few frequent content-looking words (5+ letters) to show neighbours of."""
    return [w for w in words if len(w) >= 5 and w.isalpha()][:n]


def save_vectors(folder: Path, name: str, words: list[str], matrix: np.ndarray) -> None:
    """Write the WordVectors folder the models layer loads (``words:<folder>``)."""
    WordVectors.from_arrays(name, words, matrix).save(folder)


def _watch(
    words: list[str], matrix: np.ndarray, pairs: Sequence[tuple[str, str]]
) -> dict[str, float]:
    index = {w: i for i, w in enumerate(words)}
    unit = normalize(matrix)
    return {
        f"{a}|{b}": float(unit[index[a]] @ unit[index[b]])
        for a, b in pairs
        if a in index and b in index
    }


def _epoch_progress(
    progress: Callable[[int, float], None] | None, epoch: int
) -> Callable[[float], None] | None:
    if progress is None:
        return None
    report = progress

    def inner(fraction: float) -> None:
        report(epoch, fraction)

    return inner


def _checkpoint(engine: Engine, out: Path) -> None:
    folder = out / CHECKPOINT
    folder.mkdir(exist_ok=True)
    engine.save(folder)


def train_word2vec(
    corpus: str | Path,
    out: str | Path,
    config: Word2VecConfig | None = None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    watch: Sequence[tuple[str, str]] = (),
    probe_words: Sequence[str] | None = None,
    evaluate: bool = True,
    progress: Callable[[int, float], None] | None = None,
) -> Word2VecResult:
    """Train word2vec and save it; see the module docstring.

    :param watch: word pairs whose cosine is recorded after each epoch (the trace).
    :param progress: ``progress(epoch, fraction_of_epoch)`` while training.
    :raises TrainingError: corpus too small, output folder exists, nothing to resume.
    """
    folder = prepare_output(out, overwrite=overwrite, resume=resume)
    history: list[EpochRecord] = []
    if resume:
        record = read_run(folder)
        if not (folder / CHECKPOINT).exists():
            raise TrainingError(
                f"{folder} holds a finished run, not a checkpoint: nothing to resume."
            )
        config = Word2VecConfig(**record["config"])
        history = [EpochRecord(**h) for h in record["history"]]
    config = config or Word2VecConfig()
    sentences = read_corpus(corpus)
    vocab = build_vocabulary(sentences, config.min_count)
    check_corpus(sentences, vocab, config.window, config.min_count)
    engine = ENGINES[config.engine](config, vocab)
    if resume:
        engine.load(folder / CHECKPOINT, len(history))
    unknown = [f"{a}|{b}" for a, b in watch if a not in vocab.index or b not in vocab.index]
    if unknown:
        raise InputError(f"Watched pairs with words not in the vocabulary: {', '.join(unknown)}.")

    started = time.perf_counter()
    interrupted = False
    try:
        while engine.epochs_done < config.epochs:
            e = engine.epochs_done
            t0 = time.perf_counter()
            loss, trained = engine.train_epoch(sentences, _epoch_progress(progress, e))
            words, matrix = engine.matrix()
            history.append(
                EpochRecord(
                    epoch=e + 1,
                    loss=loss,
                    words=trained,
                    seconds=time.perf_counter() - t0,
                    alpha_end=config.alpha_at((e + 1) / config.epochs),
                    similarities=_watch(words, matrix, watch),
                )
            )
    except KeyboardInterrupt:
        interrupted = True
        _checkpoint(engine, folder)
    seconds = time.perf_counter() - started
    words, matrix = engine.matrix()
    trained_words = sum(h.words for h in history)
    train_seconds = sum(h.seconds for h in history)
    result = Word2VecResult(
        out=str(folder),
        config=asdict(config),
        vocab_size=len(vocab),
        corpus_words=vocab.total_words,
        loss_label=type(engine).loss_label,
        history=history,
        seconds=seconds,
        words_per_second=trained_words / train_seconds if train_seconds else 0.0,
        interrupted=interrupted,
        neighbours=nearest(words, matrix, probe_words or default_probe_words(words)),
    )
    save_vectors(folder, f"word2vec-{config.engine}-{config.arch}", words, matrix)
    if not interrupted:
        shutil.rmtree(folder / CHECKPOINT, ignore_errors=True)
        if evaluate:
            result.evaluation = evaluate_word_model(folder)
    write_run(folder, {**result.to_dict(), "corpus": str(corpus)})
    return result


def evaluate_word_model(folder: str | Path) -> WordEvaluation:
    """Analogy accuracy and WordSim-353 Spearman, computed by the shared evaluation code."""
    from embedlab.data import gensim_test_file

    wv = WordVectors.load(folder)
    return WordEvaluation(
        analogies=evaluate_analogies(wv, gensim_test_file("questions-words.txt")),
        word_pairs=evaluate_word_pairs(wv, gensim_test_file("wordsim353.tsv")),
    )
