"""The two word2vec engines behind one small interface, and their registry.

- ``gensim``: gensim's optimised C trainer, for real corpora.
- ``explain``: :class:`~embedlab.train.w2v_explain.ExplainWord2Vec`, the readable numpy one.

Both are driven one epoch at a time by :func:`embedlab.train.word2vec.train_word2vec`,
which is what makes checkpoints, the loss curve and the similarity trace engine-neutral.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.errors import InputError
from embedlab.train.corpus import Vocabulary
from embedlab.train.w2v_explain import ExplainWord2Vec

ARCHS: tuple[str, ...] = ("skipgram", "cbow")


@dataclass(frozen=True)
class Word2VecConfig:
    """Settings shared by both engines (gensim's names and defaults)."""

    arch: str = "skipgram"
    dim: int = 100
    window: int = 5
    negative: int = 5
    min_count: int = 5
    epochs: int = 5
    sample: float = 1e-3
    alpha: float = 0.025
    min_alpha: float = 0.0001
    seed: int = 1
    engine: str = "gensim"
    #: gensim's worker threads (``None``: up to 4, one per core). Only ``workers=1`` makes
    #: a gensim run repeat exactly: its threads race over the shared vectors.
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise InputError(f"Unknown arch {self.arch!r}: use one of {', '.join(ARCHS)}.")
        if self.engine not in ENGINES:
            raise InputError(f"Unknown engine {self.engine!r}: use one of {', '.join(ENGINES)}.")
        if self.workers is not None and self.workers < 1:
            raise InputError("--workers must be at least 1.")
        for name in ("dim", "window", "negative", "min_count", "epochs"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be at least 1.")

    def alpha_at(self, progress: float) -> float:
        """Learning rate after ``progress`` (0..1) of all epochs: linear decay."""
        return max(self.alpha - (self.alpha - self.min_alpha) * progress, self.min_alpha)


Progress = Callable[[float], None]


class Engine:
    """One epoch at a time, checkpointable. Subclasses fill in the four methods."""

    name = ""

    def __init__(self, config: Word2VecConfig, vocab: Vocabulary) -> None:
        self.config, self.vocab = config, vocab
        self.epochs_done = 0

    def train_epoch(
        self, sentences: list[list[str]], progress: Progress | None
    ) -> tuple[float, int]:
        """Train one epoch; returns (loss, words trained)."""
        raise NotImplementedError

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """(words, float32 matrix of input vectors)."""
        raise NotImplementedError

    def save(self, folder: Path) -> None:
        """Write a checkpoint into ``folder``."""
        raise NotImplementedError

    def load(self, folder: Path, epochs_done: int) -> None:
        """Continue from a checkpoint written by :meth:`save` after ``epochs_done`` epochs."""
        raise NotImplementedError

    #: what the loss number means, for plots and reports.
    loss_label = "loss"


class ExplainEngine(Engine):
    """The numpy trainer (:mod:`embedlab.train.w2v_explain`)."""

    name = "explain"
    loss_label = "mean loss per (centre, context) pair"

    def __init__(self, config: Word2VecConfig, vocab: Vocabulary) -> None:
        super().__init__(config, vocab)
        c = config
        self.model = ExplainWord2Vec(
            vocab,
            dim=c.dim,
            window=c.window,
            negative=c.negative,
            arch=c.arch,
            sample=c.sample,
            alpha=c.alpha,
            min_alpha=c.min_alpha,
            epochs=c.epochs,
            seed=c.seed,
        )

    def train_epoch(
        self, sentences: list[list[str]], progress: Progress | None
    ) -> tuple[float, int]:
        out = self.model.train_epoch(sentences, progress)
        self.epochs_done = self.model.epochs_done
        return out

    def matrix(self) -> tuple[list[str], np.ndarray]:
        return list(self.vocab.words), self.model.w_in.copy()

    def save(self, folder: Path) -> None:
        np.savez(str(folder / "explain_state.npz"), **self.model.state())  # type: ignore[arg-type]

    def load(self, folder: Path, epochs_done: int) -> None:
        with np.load(folder / "explain_state.npz", allow_pickle=False) as z:
            self.model.load_state({k: z[k] for k in z.files})
        self.epochs_done = self.model.epochs_done = epochs_done


class GensimEngine(Engine):
    """gensim's ``Word2Vec``, trained one epoch per ``train()`` call with our alpha schedule."""

    name = "gensim"
    loss_label = "gensim training loss per trained word"

    def __init__(self, config: Word2VecConfig, vocab: Vocabulary) -> None:
        super().__init__(config, vocab)
        from gensim.models import Word2Vec

        c = config
        self.model = Word2Vec(
            vector_size=c.dim,
            window=c.window,
            min_count=c.min_count,
            sg=1 if c.arch == "skipgram" else 0,
            hs=0,
            negative=c.negative,
            sample=c.sample,
            alpha=c.alpha,
            min_alpha=c.min_alpha,
            seed=c.seed,
            workers=c.workers or max(1, min(4, os.cpu_count() or 1)),
            epochs=c.epochs,
            compute_loss=True,
        )
        counts = {w: int(n) for w, n in zip(vocab.words, vocab.counts, strict=True)}
        self.model.build_vocab_from_freq(counts)
        self.model.corpus_total_words = vocab.total_words

    def train_epoch(
        self, sentences: list[list[str]], progress: Progress | None
    ) -> tuple[float, int]:
        c, e = self.config, self.epochs_done
        trained, _raw = self.model.train(
            sentences,
            total_examples=len(sentences),
            epochs=1,
            start_alpha=c.alpha_at(e / c.epochs),
            end_alpha=c.alpha_at((e + 1) / c.epochs),
            compute_loss=True,
        )
        self.epochs_done += 1
        if progress is not None:
            progress(1.0)
        return float(self.model.get_latest_training_loss()) / max(trained, 1), int(trained)

    def matrix(self) -> tuple[list[str], np.ndarray]:
        wv = self.model.wv
        return list(wv.index_to_key), np.asarray(wv.vectors, dtype=np.float32).copy()

    def save(self, folder: Path) -> None:
        self.model.save(str(folder / "gensim.model"))

    def load(self, folder: Path, epochs_done: int) -> None:
        from gensim.models import Word2Vec

        self.model = Word2Vec.load(str(folder / "gensim.model"))
        self.epochs_done = epochs_done


#: engine name -> class; the CLI's choices and error messages come from here.
ENGINES: dict[str, type[Engine]] = {"gensim": GensimEngine, "explain": ExplainEngine}
