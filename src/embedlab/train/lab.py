"""What the lab's Train page steps through: one sentence's windows and one SGNS update.

A small explain-engine model is trained once per process on the Lee background corpus
(gensim's test data), so the update shown works on vectors that already mean something;
each step runs on a copy, so stepping never changes the shared model.

Two modes, as word2vec has: **skip-gram** predicts one context word from the centre word
(one step per (centre, context) pair); **CBOW** predicts the centre word from the mean of
its context words' input vectors (one step per centre, its whole reduced window at once).
A CBOW step, as gensim's ``cbow_mean=1``: ``h = mean(v_c)`` over the window's context
words, scores ``s_o = h·u_o`` for the centre and the negatives, ``g_o = (label − σ(s_o))·lr``,
then ``u_o += g_o h`` and every context word's ``v_c += Σ_o g_o u_o`` (the error is not
divided by the window size).
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

#: the stepper's modes.
MODES = ("skipgram", "cbow")

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
class CbowTrace:
    """The numbers of one CBOW negative-sampling update (the centre predicted from its window)."""

    centre: str
    contexts: list[str]
    negatives: list[str]
    lr: float
    hidden_norm: float  # |h|, h = the mean of the context words' input vectors
    scores_before: list[float]  # h·u_o for o = centre, negatives...
    sigmoid_before: list[float]
    gradients: list[float]  # (label − σ) · lr per output word
    loss_before: float
    loss_after: float
    scores_after: list[float]  # with the updated h and u


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def cbow_loss(model: ExplainWord2Vec, contexts: np.ndarray, outputs: np.ndarray) -> float:
    """−log σ(h·u_centre) − Σ log σ(−h·u_n), h the mean of the contexts' input vectors."""
    h = model.w_in[contexts].mean(axis=0)
    s = model.w_out[outputs] @ h
    return float(-(_log_sigmoid(s[:1]).sum() + _log_sigmoid(-s[1:]).sum()))


def explain_cbow_update(
    model: ExplainWord2Vec, centre: str, contexts: list[str], lr: float | None = None
) -> CbowTrace:
    """One CBOW negative-sampling update on ``model``: predict ``centre`` from ``contexts``.

    :raises InputError: a word not in the vocabulary, or no context word.
    """
    for w in (centre, *contexts):
        if w not in model.index:
            raise InputError(f"{w!r} is not in the vocabulary: pick a word seen in the corpus.")
    if not contexts:
        raise InputError("CBOW needs at least one context word around the centre.")
    c = model.index[centre]
    ctx = np.array([model.index[w] for w in contexts], dtype=np.int64)
    neg = model.draw_negatives(np.array([c]), np.array([c]))[0]
    outputs = np.concatenate([[c], neg]).astype(np.int64)
    lr = model.alpha if lr is None else lr
    h = model.w_in[ctx].mean(axis=0)
    u = model.w_out[outputs].copy()
    s = u @ h
    sig = 1 / (1 + np.exp(-s))
    loss_before = cbow_loss(model, ctx, outputs)
    g = ((np.r_[1.0, np.zeros(len(neg))] - sig) * lr).astype(np.float32)
    dh = g @ u  # the error sent back to the window, from the outputs before their update
    np.add.at(model.w_out, outputs, g[:, None] * h[None, :])
    np.add.at(model.w_in, ctx, np.broadcast_to(dh, (len(ctx), model.dim)))
    h_after = model.w_in[ctx].mean(axis=0)
    return CbowTrace(
        centre=centre,
        contexts=list(contexts),
        negatives=[model.vocab.words[i] for i in neg],
        lr=float(lr),
        hidden_norm=float(np.linalg.norm(h)),
        scores_before=s.astype(float).tolist(),
        sigmoid_before=sig.astype(float).tolist(),
        gradients=g.astype(float).tolist(),
        loss_before=loss_before,
        loss_after=cbow_loss(model, ctx, outputs),
        scores_after=(model.w_out[outputs] @ h_after).astype(float).tolist(),
    )


@dataclass
class _Run:
    """One page's stepping: its own copy of the model, updated step after step."""

    key: tuple[str, int, int, str]
    model: ExplainWord2Vec
    eff: list[int]
    pairs: list[tuple[int, int]]
    windows: list[tuple[int, list[int]]] = field(default_factory=list)  # CBOW: (centre, contexts)
    done: int = 0
    history: list[dict[str, object]] = field(default_factory=list)


_RUNS: OrderedDict[str, _Run] = OrderedDict()
_RUNS_LOCK = threading.Lock()  # not _LOCK: demo_model() takes that one
MAX_RUNS = 32


def _new_run(key: tuple[str, int, int, str], words: list[str]) -> _Run:
    sentence, window, seed, _mode = key
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
    windows: dict[int, list[int]] = {}
    for i, j in usable:
        windows.setdefault(i, []).append(j)
    return _Run(key, model, [int(e) for e in eff], usable, sorted(windows.items()))


def advance(
    run_id: str, sentence: str, window: int = 2, seed: int = 0, mode: str = "skipgram"
) -> dict[str, object]:
    """One more step of the run ``run_id``, updated on the run's own copy of the model, so
    updates accumulate. Skip-gram: the next (centre, context) pair of the sentence in order;
    CBOW: the next centre, predicted from the mean of its window's context words.

    A new id, or a changed sentence/window/seed/mode, starts a fresh copy. The answer holds
    the step, its pair (or window), the update's numbers and the history (loss before/after
    and the target's score after, one entry a step) for the loss curve.
    """
    if mode not in MODES:
        raise InputError(f"Unknown mode {mode!r}: use skipgram or cbow.")
    if not 1 <= window <= 10:
        raise InputError("Pick a window between 1 and 10.")
    words = tokenize(sentence)
    if len(words) < 2:
        raise InputError("Type a sentence of at least two words.")
    key = (sentence, window, seed, mode)
    demo_model()  # trained once, outside the runs' lock
    with _RUNS_LOCK:
        run = _RUNS.get(run_id)
        if run is None or run.key != key:
            run = _new_run(key, words)
            _RUNS[run_id] = run
        _RUNS.move_to_end(run_id)
        while len(_RUNS) > MAX_RUNS:
            _RUNS.popitem(last=False)
        if mode == "cbow":
            i, ctx = run.windows[run.done % len(run.windows)]
            cbow = explain_cbow_update(run.model, words[i], [words[j] for j in ctx])
            return _record(run, "cbow", words, i, ctx, " ".join(words[j] for j in ctx), cbow)
        i, j = run.pairs[run.done % len(run.pairs)]
        update = run.model.explain_update(words[i], words[j])
        return _record(run, "skipgram", words, i, j, words[j], update)


def _record(
    run: _Run,
    mode: str,
    words: list[str],
    i: int,
    context: object,
    label: str,
    update: UpdateTrace | CbowTrace,
) -> dict[str, object]:
    """Count one step of ``run`` (its lock held), add it to the loss curve's history and
    answer it: centre ``i``, its ``context`` (a position, or CBOW's window) named ``label``."""
    run.done += 1
    run.history.append(
        {
            "step": run.done,
            "centre": words[i],
            "context": label,
            "loss_before": update.loss_before,
            "loss_after": update.loss_after,
            "score_after": update.scores_after[0],
        }
    )
    return {
        "mode": mode,
        "step": run.done,
        "words": words,
        "effective_windows": run.eff,
        "pairs": run.pairs,
        "centre": i,
        "context": context,
        "update": asdict(update),
        "history": list(run.history),
    }
