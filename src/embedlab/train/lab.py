"""What the lab's Train page steps through: one sentence's windows and one SGNS update.

A small explain-engine model is trained once per process on the Lee background corpus
(gensim's test data), so the update shown works on vectors that already mean something;
each step runs on a copy, so stepping never changes the shared model.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

import numpy as np

from embedlab.errors import InputError
from embedlab.train.corpus import build_vocabulary, read_corpus, tokenize
from embedlab.train.w2v_explain import ExplainWord2Vec, UpdateTrace, window_pair_positions

_LOCK = threading.Lock()
_MODEL: list[ExplainWord2Vec] = []


def demo_model() -> ExplainWord2Vec:
    """The page's model: dim 50, window 5, 3 epochs of skip-gram on the Lee corpus (cached)."""
    with _LOCK:
        if not _MODEL:
            from embedlab.data import gensim_test_file

            sentences = read_corpus(gensim_test_file("lee_background.cor"))
            m = ExplainWord2Vec(build_vocabulary(sentences, 2), dim=50, epochs=3, seed=1)
            for _ in range(3):
                m.train_epoch(sentences)
            _MODEL.append(m)
        return _MODEL[0]


@dataclass
class WindowStep:
    """A sentence, its reduced windows, its pairs, and one update on one of them."""

    words: list[str]
    known: list[bool]
    effective_windows: list[int]
    pairs: list[tuple[int, int]]  # (centre position, context position)
    centre: int
    update: UpdateTrace | None
    noise_top: list[tuple[str, float]]  # the most likely negatives and their probability


def step_window(
    sentence: str, window: int = 2, centre: int = 0, pair: int = 0, seed: int = 0
) -> WindowStep:
    """Pairs of ``sentence`` with gensim-style reduced windows, then one update for pair #``pair`` of ``centre``."""
    if not 1 <= window <= 10:
        raise InputError("Pick a window between 1 and 10.")
    words = tokenize(sentence)
    if len(words) < 2:
        raise InputError("Type a sentence of at least two words.")
    base = demo_model()
    model = copy.copy(base)
    model.w_in, model.w_out = base.w_in.copy(), base.w_out.copy()
    model.rng = np.random.default_rng(seed)
    eff = (window - model.rng.integers(0, window, len(words))).tolist()
    c, x = window_pair_positions(len(words), window, np.asarray(eff))
    centre = min(max(centre, 0), len(words) - 1)
    mine = [(int(i), int(j)) for i, j in zip(c, x, strict=True) if i == centre]
    update = None
    if mine:
        i, j = mine[min(max(pair, 0), len(mine) - 1)]
        if words[i] in model.index and words[j] in model.index:
            update = model.explain_update(words[i], words[j])
    top = np.argsort(-model.noise)[:8]
    return WindowStep(
        words=words,
        known=[w in model.index for w in words],
        effective_windows=[int(e) for e in eff],
        pairs=[(int(i), int(j)) for i, j in zip(c, x, strict=True)],
        centre=centre,
        update=update,
        noise_top=[(model.vocab.words[i], float(model.noise[i])) for i in top],
    )
