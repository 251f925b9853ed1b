"""Read a similarity score against the model's own background of unrelated pairs.

"0.42" means little alone: MiniLM puts unrelated sentences near 0.0-0.2, E5 near 0.7-0.8.
A :class:`Calibration` holds the scores of many unrelated pairs for one model; a score's
percentile in it says how unusual the score is for that model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedlab.errors import InputError
from embedlab.vectors.similarity import cosine_matrix


@dataclass(frozen=True)
class Calibration:
    """Sorted background scores of unrelated pairs for one model."""

    scores: np.ndarray
    fingerprint: str = ""

    @classmethod
    def from_vectors(cls, vectors: np.ndarray, fingerprint: str = "") -> Calibration:
        """All distinct pairs of ``vectors`` (texts chosen to be mutually unrelated)."""
        if len(vectors) < 3:
            raise InputError("A calibration needs at least 3 unrelated texts.")
        sims = cosine_matrix(vectors)
        iu = np.triu_indices(len(vectors), k=1)
        return cls(scores=np.sort(sims[iu]).astype(np.float32), fingerprint=fingerprint)

    def percentile(self, score: float) -> float:
        """Share (0-100) of unrelated pairs that score below ``score``."""
        n = len(self.scores)
        below = np.searchsorted(self.scores, score, side="left")
        equal = np.searchsorted(self.scores, score, side="right") - below
        return float(100.0 * (below + 0.5 * equal) / n)

    def describe(self, score: float) -> str:
        """A plain reading of a score, e.g. 'higher than 99% of unrelated pairs'."""
        p = self.percentile(score)
        if p >= 99.5:
            return "higher than almost every unrelated pair: strongly related"
        if p >= 90:
            return f"higher than {p:.0f}% of unrelated pairs: related"
        if p >= 60:
            return f"higher than {p:.0f}% of unrelated pairs: loosely related at best"
        return f"higher than only {p:.0f}% of unrelated pairs: typical of unrelated texts"

    def summary(self) -> dict[str, float]:
        s = self.scores
        return {
            "n_pairs": float(len(s)),
            "p5": float(np.percentile(s, 5)),
            "p50": float(np.percentile(s, 50)),
            "p95": float(np.percentile(s, 95)),
        }
