"""InfoNCE, exactly, for one anchor: what the temperature does and where the gradient goes.

For an anchor ``a``, a positive ``p`` and negatives ``n_1..n_k`` with cosine similarities
``s_j = cos(a, x_j)`` and temperature ``τ``:

    z_j = s_j / τ,   P_j = exp(z_j) / Σ_i exp(z_i),   L = −log P_p = −z_p + log Σ_i exp(z_i)

(sentence-transformers' MultipleNegativesRankingLoss is this with ``scale = 1/τ`` and the
other positives of the batch as negatives). The gradients, exact:

    ∂L/∂s_p = (P_p − 1)/τ        ∂L/∂s_n = P_n/τ

so a negative pushes on the anchor in proportion to its probability: a hard negative (high
similarity) gets a large gradient, an easy one almost none, and a low temperature makes the
difference sharper. With unit vectors and ``s_j = a·x_j`` (the anchor's norm held fixed),
``∂L/∂a = Σ_j (∂L/∂s_j) x_j``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embedlab.errors import InputError

#: temperatures the explainer sweeps by default (0.05 is sentence-transformers' scale 20).
DEFAULT_TEMPERATURES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


@dataclass(frozen=True)
class InfoNCEPoint:
    """InfoNCE of one anchor at one temperature.

    :param similarities: cosine to [positive, negatives...].
    :param probabilities: softmax of similarities / τ, same order.
    :param grad_similarities: ∂L/∂s_j, same order (negative for the positive).
    :param grad_anchor: ∂L/∂a (unit vectors, anchor norm fixed); empty if only scores were given.
    :param grad_from: norm of each candidate's term ``(∂L/∂s_j) x_j`` in ∂L/∂a.
    """

    temperature: float
    loss: float
    p_positive: float
    similarities: list[float]
    probabilities: list[float]
    grad_similarities: list[float]
    grad_anchor_norm: float | None
    grad_from: list[float] | None


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, in float64 (the explainer's numbers are exact)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if (norms == 0).any():
        raise InputError("A vector is all zeros: its direction, and so its cosine, is undefined.")
    return x / norms


def _check_temperature(t: float) -> None:
    if not t > 0:
        raise InputError(f"The temperature must be above 0, got {t}.")


def infonce_from_similarities(
    similarities: Sequence[float] | np.ndarray,
    temperature: float,
    candidates: np.ndarray | None = None,
) -> InfoNCEPoint:
    """InfoNCE when ``similarities[0]`` is the positive and the rest are negatives.

    :param candidates: unit vectors of [positive, negatives...] to also give ∂L/∂a.
    """
    _check_temperature(temperature)
    s = np.asarray(similarities, dtype=np.float64)
    if s.ndim != 1 or len(s) < 2:
        raise InputError("Give the positive's similarity first and at least one negative's.")
    z = s / temperature
    z_max = z.max()
    log_norm = z_max + np.log(np.exp(z - z_max).sum())
    p = np.exp(z - log_norm)
    y = np.zeros_like(p)
    y[0] = 1.0
    grad_s = (p - y) / temperature
    grad_anchor_norm = grad_from = None
    if candidates is not None:
        x = np.asarray(candidates, dtype=np.float64)
        terms = grad_s[:, None] * x
        grad_anchor_norm = float(np.linalg.norm(terms.sum(axis=0)))
        grad_from = np.linalg.norm(terms, axis=1).tolist()
    return InfoNCEPoint(
        temperature=float(temperature),
        loss=float(np.logaddexp.reduce(z - z[0])),  # log(1 + Σ exp(z_n − z_p)), no cancellation
        p_positive=float(p[0]),
        similarities=s.tolist(),
        probabilities=p.tolist(),
        grad_similarities=grad_s.tolist(),
        grad_anchor_norm=grad_anchor_norm,
        grad_from=grad_from,
    )


def infonce(
    anchor: np.ndarray, positive: np.ndarray, negatives: np.ndarray, temperature: float
) -> InfoNCEPoint:
    """InfoNCE of vectors (normalised here): anchor (d,), positive (d,), negatives (k, d)."""
    a = _unit(np.asarray(anchor, dtype=np.float64).reshape(1, -1))[0]
    negs = np.asarray(negatives, dtype=np.float64).reshape(-1, a.shape[0])
    x = _unit(np.vstack([np.asarray(positive, dtype=np.float64).reshape(1, -1), negs]))
    return infonce_from_similarities(x @ a, temperature, x)


@dataclass(frozen=True)
class InfoNCEExplanation:
    """The temperature sweep for one anchor, and which negative is easy or hard."""

    anchor: str
    positive: str
    negatives: list[str]
    points: list[InfoNCEPoint]
    hardest: int  # index into negatives of the most similar one
    easiest: int

    def at(self, temperature: float) -> InfoNCEPoint:
        """The point nearest to ``temperature``."""
        return min(self.points, key=lambda p: abs(np.log(p.temperature / temperature)))


def explain_infonce(
    anchor: str,
    positive: str,
    negatives: Sequence[str],
    vectors: np.ndarray,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
) -> InfoNCEExplanation:
    """The sweep for texts whose vectors are given in order [anchor, positive, negatives...]."""
    v = np.asarray(vectors)
    if len(negatives) < 1 or v.shape[0] != len(negatives) + 2:
        raise InputError(
            "Give one anchor, one positive, at least one negative, and a vector for each."
        )
    points = [infonce(v[0], v[1], v[2:], t) for t in temperatures]
    neg_sims = np.asarray(points[0].similarities[1:])
    return InfoNCEExplanation(
        anchor=anchor,
        positive=positive,
        negatives=list(negatives),
        points=points,
        hardest=int(np.argmax(neg_sims)),
        easiest=int(np.argmin(neg_sims)),
    )
