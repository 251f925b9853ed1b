"""A small, readable word2vec in numpy: the same algorithm as gensim, one step at a time.

Skip-gram with negative sampling (SGNS) predicts each context word ``c`` from the centre
word ``w``; for one (w, c) pair and ``k`` negatives ``n_1..n_k`` drawn from the unigram
distribution raised to 0.75, it maximises

    log σ(v_w · u_c) + Σ_i log σ(−v_w · u_{n_i})

with plain SGD (``v`` = input vectors, the ones kept; ``u`` = output vectors). CBOW
predicts the centre from the mean of its context vectors instead. As in gensim:

- each centre draws a reduced window ``b`` in ``[0, window)`` and uses ``window − b``;
- frequent words are dropped with gensim's subsampling formula (``sample``);
- the learning rate decays linearly from ``alpha`` to ``min_alpha`` over all epochs;
- input vectors start uniform in ``±0.5/dim``, output vectors at zero.

Pairs are processed in batches (numpy gathers and scatter-adds), so updates inside one
batch see the same weights: a few thousand pairs per batch changes little and runs ~100x
faster than one pair at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from embedlab.errors import InputError
from embedlab.train.corpus import Vocabulary


def window_pair_positions(
    n: int, window: int, effective: np.ndarray | None = None, sentence_of: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """All (centre position, context position) pairs of a token sequence.

    :param n: number of tokens.
    :param window: the largest distance.
    :param effective: per-token window actually used (``window − b``); full window if ``None``.
    :param sentence_of: sentence id per token; pairs never cross sentences.
    :return: two int arrays, sorted by centre position then context position.
    """
    eff = np.full(n, window) if effective is None else np.asarray(effective)
    sent = np.zeros(n, dtype=np.int64) if sentence_of is None else np.asarray(sentence_of)
    centres, contexts = [], []
    for d in range(1, window + 1):
        if d >= n:
            break
        same = sent[:-d] == sent[d:]
        left = np.nonzero(same & (eff[:-d] >= d))[0]  # centre i, context i + d
        centres.append(left)
        contexts.append(left + d)
        right = np.nonzero(same & (eff[d:] >= d))[0] + d  # centre j, context j - d
        centres.append(right)
        contexts.append(right - d)
    if not centres:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    c, x = np.concatenate(centres), np.concatenate(contexts)
    order = np.lexsort((x, c))
    return c[order], x[order]


def keep_probability(counts: np.ndarray, sample: float) -> np.ndarray:
    """gensim's subsampling: probability of keeping each word (1 for rare words)."""
    if sample <= 0:
        return np.ones(len(counts))
    threshold = sample * counts.sum()
    p = (np.sqrt(counts / threshold) + 1) * (threshold / counts)
    return np.minimum(p, 1.0)


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def _scatter_add(table: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``table[rows] += values`` with repeated rows summed (a sparse product: fast)."""
    uniq, inv = np.unique(rows, return_inverse=True)
    m = sp.csr_matrix(
        (np.ones(len(rows), dtype=table.dtype), (inv, np.arange(len(rows)))),
        shape=(len(uniq), len(rows)),
    )
    table[uniq] += m @ values


@dataclass
class UpdateTrace:
    """The numbers of one negative-sampling update, for the lab's step-through."""

    centre: str
    context: str
    negatives: list[str]
    lr: float
    scores_before: list[float]  # v_w·u_o for o = context, negatives...
    sigmoid_before: list[float]
    gradients: list[float]  # (label − σ) · lr per output word
    loss_before: float
    loss_after: float
    scores_after: list[float]


class ExplainWord2Vec:
    """The numpy trainer. Build it from a :class:`Vocabulary`, then call :meth:`train_epoch`."""

    def __init__(
        self,
        vocab: Vocabulary,
        *,
        dim: int = 100,
        window: int = 5,
        negative: int = 5,
        arch: str = "skipgram",
        sample: float = 1e-3,
        alpha: float = 0.025,
        min_alpha: float = 0.0001,
        epochs: int = 5,
        seed: int = 1,
        batch_pairs: int = 2048,
    ) -> None:
        if arch not in ("skipgram", "cbow"):
            raise InputError(f"Unknown arch {arch!r}: use skipgram or cbow.")
        self.vocab, self.index = vocab, vocab.index
        self.dim, self.window, self.negative, self.arch = dim, window, negative, arch
        self.sample, self.alpha, self.min_alpha, self.epochs = sample, alpha, min_alpha, epochs
        self.batch_pairs = batch_pairs
        self.rng = np.random.default_rng(seed)
        v = len(vocab)
        self.w_in = ((self.rng.random((v, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
        self.w_out = np.zeros((v, dim), dtype=np.float32)
        weights = vocab.counts.astype(np.float64) ** 0.75
        self.noise = weights / weights.sum()  # the negative-sampling distribution
        self._cdf = np.cumsum(self.noise)
        self.keep = keep_probability(vocab.counts.astype(np.float64), sample)
        self.epochs_done = 0

    # --- the pieces the lab shows ----------------------------------------------------------

    def ids(self, words: list[str]) -> np.ndarray:
        """Row of each known word (unknown words dropped)."""
        return np.array([self.index[w] for w in words if w in self.index], dtype=np.int64)

    def sentence_pairs(
        self, words: list[str], window: int | None = None, effective: list[int] | None = None
    ) -> list[tuple[str, str]]:
        """(centre, context) word pairs of one sentence at ``window`` (reduced per centre if given)."""
        w = window or self.window
        eff = None if effective is None else np.asarray(effective)
        c, x = window_pair_positions(len(words), w, eff)
        return [(words[i], words[j]) for i, j in zip(c, x, strict=True)]

    def draw_negatives(
        self, centre: np.ndarray, context: np.ndarray, k: int | None = None
    ) -> np.ndarray:
        """``k`` negatives per pair from unigram^0.75, redrawn while equal to centre or context."""
        k = self.negative if k is None else k
        neg = np.searchsorted(self._cdf, self.rng.random((len(centre), k)) * self._cdf[-1])
        bad = (neg == centre[:, None]) | (neg == context[:, None])
        while bad.any():
            neg[bad] = np.searchsorted(self._cdf, self.rng.random(int(bad.sum())) * self._cdf[-1])
            bad = (neg == centre[:, None]) | (neg == context[:, None])
        return neg.astype(np.int64)

    def similarity(self, a: str, b: str) -> float:
        """Cosine of two words' input vectors."""
        va, vb = self.w_in[self.index[a]], self.w_in[self.index[b]]
        return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb) + 1e-12))

    def pair_loss(self, centre: int, outputs: np.ndarray) -> float:
        """−log σ(v_w·u_c) − Σ log σ(−v_w·u_n) for outputs = [context, negatives...]."""
        s = self.w_out[outputs] @ self.w_in[centre]
        return float(-(_log_sigmoid(s[:1]).sum() + _log_sigmoid(-s[1:]).sum()))

    def explain_update(self, centre: str, context: str, lr: float | None = None) -> UpdateTrace:
        """Do one skip-gram negative-sampling update for (centre, context), with every number."""
        for w in (centre, context):
            if w not in self.index:
                raise InputError(f"{w!r} is not in the vocabulary: pick a word seen in the corpus.")
        c, x = self.index[centre], self.index[context]
        neg = self.draw_negatives(np.array([c]), np.array([x]))[0]
        outputs = np.concatenate([[x], neg])
        lr = self.alpha if lr is None else lr
        s = self.w_out[outputs] @ self.w_in[c]
        sig = 1 / (1 + np.exp(-s))
        loss_before = self.pair_loss(c, outputs)
        g = (np.r_[1.0, np.zeros(len(neg))] - sig) * lr
        self._apply_sg(np.array([c]), outputs[None, :], g[None, :].astype(np.float32))
        after = self.w_out[outputs] @ self.w_in[c]
        return UpdateTrace(
            centre=centre,
            context=context,
            negatives=[self.vocab.words[i] for i in neg],
            lr=float(lr),
            scores_before=s.tolist(),
            sigmoid_before=sig.tolist(),
            gradients=g.tolist(),
            loss_before=loss_before,
            loss_after=self.pair_loss(c, outputs),
            scores_after=after.tolist(),
        )

    # --- training --------------------------------------------------------------------------

    def _apply_sg(self, centres: np.ndarray, outputs: np.ndarray, g: np.ndarray) -> None:
        h = self.w_in[centres]  # (B, d)
        u = self.w_out[outputs]  # (B, k+1, d)
        dh = np.einsum("bk,bkd->bd", g, u)
        du = g[:, :, None] * h[:, None, :]
        _scatter_add(self.w_out, outputs.ravel(), du.reshape(-1, self.dim))
        _scatter_add(self.w_in, centres, dh)

    def _sg_batch(self, centres: np.ndarray, contexts: np.ndarray, lr: float) -> float:
        neg = self.draw_negatives(centres, contexts)
        outputs = np.concatenate([contexts[:, None], neg], axis=1)
        s = np.einsum("bd,bkd->bk", self.w_in[centres], self.w_out[outputs])
        labels = np.zeros_like(s)
        labels[:, 0] = 1
        g = ((labels - 1 / (1 + np.exp(-s))) * lr).astype(np.float32)
        self._apply_sg(centres, outputs, g)
        return float(-(_log_sigmoid(s[:, 0]).sum() + _log_sigmoid(-s[:, 1:]).sum()))

    def _cbow_batch(
        self, centres: np.ndarray, contexts: np.ndarray, seg: np.ndarray, lr: float
    ) -> float:
        """CBOW over whole windows: ``seg`` gives each pair's window (0..m-1, sorted)."""
        new = np.r_[True, np.diff(seg) != 0]
        starts, window_of = np.nonzero(new)[0], np.cumsum(new) - 1
        targets = centres[starts]
        counts = np.diff(np.r_[starts, len(seg)]).astype(np.float32)
        h = np.add.reduceat(self.w_in[contexts], starts, axis=0) / counts[:, None]
        neg = self.draw_negatives(targets, targets)
        outputs = np.concatenate([targets[:, None], neg], axis=1)
        u = self.w_out[outputs]
        s = np.einsum("bd,bkd->bk", h, u)
        labels = np.zeros_like(s)
        labels[:, 0] = 1
        g = ((labels - 1 / (1 + np.exp(-s))) * lr).astype(np.float32)
        dh = np.einsum("bk,bkd->bd", g, u)
        _scatter_add(
            self.w_out, outputs.ravel(), (g[:, :, None] * h[:, None, :]).reshape(-1, self.dim)
        )
        _scatter_add(self.w_in, contexts, dh[window_of])
        return float(-(_log_sigmoid(s[:, 0]).sum() + _log_sigmoid(-s[:, 1:]).sum()))

    def epoch_pairs(self, sentences: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Subsample, draw reduced windows and return (centre ids, context ids, centre position)."""
        rows = [self.ids(s) for s in sentences]
        ids = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        sent = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
        keep = self.rng.random(len(ids)) < self.keep[ids]
        ids, sent = ids[keep], sent[keep]
        eff = self.window - self.rng.integers(0, self.window, len(ids))
        c, x = window_pair_positions(len(ids), self.window, eff, sent)
        return ids[c], ids[x], c

    def train_epoch(self, sentences: list[list[str]], progress: object = None) -> tuple[float, int]:
        """One pass over the corpus; returns (mean loss per pair, number of words trained).

        :param progress: optional callable ``progress(fraction_of_epoch)`` after each batch.
        """
        centres, contexts, pos = self.epoch_pairs(sentences)
        n = len(centres)
        total_loss, seen = 0.0, 0
        cuts = np.arange(0, n, self.batch_pairs)
        if self.arch == "cbow" and n:  # never split one window across batches
            cuts = np.unique(np.searchsorted(pos, pos[cuts]))
        bounds = np.r_[cuts, n]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            frac = (self.epochs_done + a / max(n, 1)) / self.epochs
            lr = max(self.alpha - (self.alpha - self.min_alpha) * frac, self.min_alpha)
            if self.arch == "skipgram":
                total_loss += self._sg_batch(centres[a:b], contexts[a:b], lr)
                seen += b - a
            else:
                total_loss += self._cbow_batch(centres[a:b], contexts[a:b], pos[a:b], lr)
                seen += len(np.unique(pos[a:b]))
            if callable(progress):
                progress(b / n)
        self.epochs_done += 1
        return total_loss / max(seen, 1), int(len(np.unique(pos)))

    # --- checkpoints -----------------------------------------------------------------------

    def state(self) -> dict[str, np.ndarray]:
        """Arrays a checkpoint needs to continue training."""
        return {"w_in": self.w_in, "w_out": self.w_out, "epochs_done": np.array(self.epochs_done)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Continue from :meth:`state` (same vocabulary and dims)."""
        self.w_in = state["w_in"].astype(np.float32)
        self.w_out = state["w_out"].astype(np.float32)
        self.epochs_done = int(state["epochs_done"])
