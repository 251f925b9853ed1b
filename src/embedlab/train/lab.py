"""What the lab's Train page steps through: one sentence's windows and one SGNS update.

A small explain-engine model is trained once per process on the Lee background corpus
(gensim's test data), so the update shown works on vectors that already mean something;
each step runs on a copy, so stepping never changes the shared model.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

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


@dataclass
class _Run:
    """One page's stepping: its own copy of the model, updated step after step."""

    key: tuple[str, int, int]
    model: ExplainWord2Vec
    eff: list[int]
    pairs: list[tuple[int, int]]
    done: int = 0
    history: list[dict[str, object]] = field(default_factory=list)


_RUNS: OrderedDict[str, _Run] = OrderedDict()
_RUNS_LOCK = threading.Lock()  # not _LOCK: demo_model() takes that one
MAX_RUNS = 32


def _new_run(key: tuple[str, int, int], words: list[str]) -> _Run:
    sentence, window, seed = key
    base = demo_model()
    model = copy.copy(base)
    model.w_in, model.w_out = base.w_in.copy(), base.w_out.copy()
    model.rng = np.random.default_rng(seed)
    eff = (window - model.rng.integers(0, window, len(words))).tolist()
    c, x = window_pair_positions(len(words), window, np.asarray(eff))
    usable = [
        (int(i), int(j))
        for i, j in zip(c, x, strict=True)
        if words[int(i)] in model.index and words[int(j)] in model.index
    ]
    if not usable:
        raise InputError("No pair of this sentence has both words in the vocabulary: try others.")
    return _Run(key, model, [int(e) for e in eff], usable)


def advance(run_id: str, sentence: str, window: int = 2, seed: int = 0) -> dict[str, object]:
    """One more SGNS step of the run ``run_id``: the next (centre, context) pair of the
    sentence in order, updated on the run's own copy of the model, so updates accumulate.

    A new id, or a changed sentence/window/seed, starts a fresh copy. The answer holds the
    step, its pair, the update's numbers and the history (loss before/after and the pair's
    score after, one entry a step) for the loss curve.
    """
    if not 1 <= window <= 10:
        raise InputError("Pick a window between 1 and 10.")
    words = tokenize(sentence)
    if len(words) < 2:
        raise InputError("Type a sentence of at least two words.")
    key = (sentence, window, seed)
    demo_model()  # trained once, outside the runs' lock
    with _RUNS_LOCK:
        run = _RUNS.get(run_id)
        if run is None or run.key != key:
            run = _new_run(key, words)
            _RUNS[run_id] = run
        _RUNS.move_to_end(run_id)
        while len(_RUNS) > MAX_RUNS:
            _RUNS.popitem(last=False)
        i, j = run.pairs[run.done % len(run.pairs)]
        update = run.model.explain_update(words[i], words[j])
        run.done += 1
        run.history.append(
            {
                "step": run.done,
                "centre": words[i],
                "context": words[j],
                "loss_before": update.loss_before,
                "loss_after": update.loss_after,
                "score_after": update.scores_after[0],
            }
        )
        return {
            "step": run.done,
            "words": words,
            "effective_windows": run.eff,
            "pairs": run.pairs,
            "centre": i,
            "context": j,
            "update": asdict(update),
            "history": list(run.history),
        }
