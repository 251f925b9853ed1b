"""Compare models on the same texts, without ever comparing vectors across models.

Two models put texts in different spaces: a cosine between model A's vector and model B's
vector means nothing, even when the dims match. What can be compared is how each model
*arranges* the texts:

- the rank correlation (Spearman) of the two similarity matrices' upper triangles: do
  both models find the same pairs close and the same pairs far?
- for each text, the overlap of its top-k nearest neighbours under each model.

Texts come back ordered by disagreement (lowest neighbour overlap first, then lowest
per-text rank correlation), so the interesting cases are on top.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from embedlab.errors import InputError
from embedlab.explore.inspect import TextInspection, inspect_texts
from embedlab.models.base import Encoder, as_text_list
from embedlab.vectors.similarity import cosine_matrix, top_k


@dataclass(frozen=True)
class PairAgreement:
    """How far two models agree over all the texts.

    :param spearman: rank correlation of the upper triangles of their cosine matrices
        (1 = same order of pairs, 0 = unrelated, NaN when a matrix is constant).
    :param mean_overlap: mean over texts of |top-k(A) ∩ top-k(B)| / k.
    """

    model_a: str
    model_b: str
    spearman: float
    mean_overlap: float


@dataclass(frozen=True)
class TextAgreement:
    """One text's neighbours under each model, and how much the models agree on it.

    :param neighbours: model -> indices of the text's top-k other texts, nearest first.
    :param overlap: mean over model pairs of the shared share of top-k neighbours (0-1).
    :param row_spearman: mean over model pairs of the rank correlation of this text's
        similarities to all the other texts.
    """

    index: int
    text: str
    neighbours: dict[str, list[int]]
    overlap: float
    row_spearman: float

    @property
    def disagreement(self) -> float:
        """``1 - overlap``: 0 when every model has the same neighbours for this text."""
        return 1.0 - self.overlap


@dataclass
class ModelComparison:
    """Each model's similarity matrix over the same texts, and their agreement."""

    models: list[str]
    texts: list[str]
    k: int
    matrices: dict[str, np.ndarray]
    pairs: list[PairAgreement]
    by_text: list[TextAgreement]
    seconds: dict[str, float]

    def spearman(self, model_a: str, model_b: str) -> float:
        """The Spearman correlation between two models' matrices."""
        for p in self.pairs:
            if {p.model_a, p.model_b} == {model_a, model_b}:
                return p.spearman
        raise InputError(f"No comparison of {model_a!r} with {model_b!r} in this result.")

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record (NaN becomes ``None``)."""

        def num(x: float) -> float | None:
            return None if math.isnan(x) else float(x)

        return {
            "models": self.models,
            "texts": self.texts,
            "k": self.k,
            "matrices": {m: a.round(6).tolist() for m, a in self.matrices.items()},
            "pairs": [
                {
                    "model_a": p.model_a,
                    "model_b": p.model_b,
                    "spearman": num(p.spearman),
                    "mean_overlap": p.mean_overlap,
                }
                for p in self.pairs
            ],
            "by_text": [
                {
                    "index": t.index,
                    "text": t.text,
                    "neighbours": t.neighbours,
                    "overlap": t.overlap,
                    "row_spearman": num(t.row_spearman),
                    "disagreement": t.disagreement,
                }
                for t in self.by_text
            ],
            "seconds": self.seconds,
        }


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def _neighbours(sims: np.ndarray, i: int, k: int) -> list[int]:
    row = sims[i].astype(np.float64).copy()
    row[i] = -np.inf
    return [int(j) for j in top_k(row, k)]


def _names(encoders: Sequence[Encoder]) -> list[str]:
    names = [e.info.name for e in encoders]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def compare_models(
    encoders: Sequence[Encoder], texts: Sequence[str], *, k: int = 3
) -> ModelComparison:
    """Embed ``texts`` with each model and measure how far the models agree.

    :param encoders: two or more models.
    :param texts: at least three texts (a pair has no ranking to correlate).
    :param k: neighbours per text (clipped to ``len(texts) - 1``).
    :raises InputError: fewer than two models or three texts, or k < 1.
    """
    items = as_text_list(texts)
    if len(encoders) < 2:
        raise InputError("Comparing models needs at least two models: name two or more.")
    if len(items) < 3:
        raise InputError("Comparing models needs at least three texts (one per line).")
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}.")
    k = min(k, len(items) - 1)
    names = _names(encoders)
    matrices: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    for name, enc in zip(names, encoders, strict=True):
        start = time.perf_counter()
        vecs = enc.embed(items, role="document")
        seconds[name] = time.perf_counter() - start
        matrices[name] = cosine_matrix(vecs)
    iu = np.triu_indices(len(items), k=1)
    nb = {m: [_neighbours(matrices[m], i, k) for i in range(len(items))] for m in names}
    pairs = []
    for ma, mb in itertools.combinations(names, 2):
        overlaps = [len(set(nb[ma][i]) & set(nb[mb][i])) / k for i in range(len(items))]
        pairs.append(
            PairAgreement(
                ma, mb, _spearman(matrices[ma][iu], matrices[mb][iu]), float(np.mean(overlaps))
            )
        )
    by_text = []
    for i, text in enumerate(items):
        others = [j for j in range(len(items)) if j != i]
        ov, rho = [], []
        for ma, mb in itertools.combinations(names, 2):
            ov.append(len(set(nb[ma][i]) & set(nb[mb][i])) / k)
            rho.append(_spearman(matrices[ma][i, others], matrices[mb][i, others]))
        finite = [r for r in rho if not math.isnan(r)]
        by_text.append(
            TextAgreement(
                index=i,
                text=text,
                neighbours={m: nb[m][i] for m in names},
                overlap=float(np.mean(ov)),
                row_spearman=float(np.mean(finite)) if finite else float("nan"),
            )
        )
    by_text.sort(
        key=lambda t: (t.overlap, -2.0 if math.isnan(t.row_spearman) else t.row_spearman, t.index)
    )
    return ModelComparison(names, items, k, matrices, pairs, by_text, seconds)


def inspect_across(
    encoders: Sequence[Encoder], text: str, role: str = "document"
) -> list[TextInspection]:
    """One text through several models: each model's stats, tokens and time, side by side."""
    if not encoders:
        raise InputError("Name at least one model.")
    return [inspect_texts(enc, text, role=role)[0] for enc in encoders]
