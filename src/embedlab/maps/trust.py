"""How far a 2-D map can be trusted, and whether two overlaid corpora separate.

- :func:`map_trust`: trustworthiness (Venna & Kaski 2001, computed by
  :func:`sklearn.manifold.trustworthiness`) and, per point, the share of its ``k`` nearest
  neighbours in the full space that are also among its ``k`` nearest on the map. Low
  per-point values mark the regions where the picture misleads.
- :func:`separability`: cross-validated accuracy of a k-NN classifier telling the sources
  apart in the full space, next to the majority-class baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedlab.errors import InputError, TooFewPointsError
from embedlab.vectors.similarity import normalize, top_k_rows

#: trustworthiness needs all pairwise distances: above this many points it uses a sample.
TRUST_SAMPLE = 4000
#: exact neighbour searches of at least this many query x base pairs use faiss.
FAISS_ABOVE = 20_000_000
#: per-point neighbour preservation is exact up to this many points, then sampled.
PER_POINT_MAX = 20_000


def _unit(x: np.ndarray) -> np.ndarray:
    return normalize(x)


def nearest(
    vectors: np.ndarray, queries: np.ndarray, k: int = 10, exclude: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of ``vectors`` to each query by cosine similarity.

    :param exclude: per query, a row index to leave out (the query itself), or ``None``.
    :return: (indices (m, k), similarities (m, k)), best first.
    """
    base = _unit(vectors)
    q = _unit(np.atleast_2d(queries))
    k = min(k, base.shape[0] - (1 if exclude is not None else 0))
    if q.shape[0] * base.shape[0] >= FAISS_ABOVE:
        found = _nearest_faiss(base, q, k, exclude)
        if found is not None:
            return found
    out_i = np.empty((q.shape[0], k), dtype=np.int64)
    out_s = np.empty((q.shape[0], k), dtype=np.float32)
    for start in range(0, q.shape[0], 1024):
        sims = q[start : start + 1024] @ base.T
        if exclude is not None:
            rows = np.arange(sims.shape[0])
            sims[rows, exclude[start : start + 1024]] = -np.inf
        out_i[start : start + 1024], out_s[start : start + 1024] = top_k_rows(sims, k)
    return out_i, out_s


def _nearest_faiss(
    base: np.ndarray, q: np.ndarray, k: int, exclude: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Exact inner-product search with faiss (BLAS + heaps, much faster than argpartition on
    large inputs); ``None`` when faiss is not installed."""
    try:
        import faiss
    except ImportError:  # pragma: no cover - faiss-cpu is a dependency
        return None
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(np.ascontiguousarray(base, dtype=np.float32))
    extra = 1 if exclude is not None else 0
    sims, idx = index.search(np.ascontiguousarray(q, dtype=np.float32), k + extra)
    if exclude is None:
        return idx.astype(np.int64), sims.astype(np.float32)
    keep = idx != exclude[:, None]
    # drop the excluded row where it was found, else the last (k + 1-th) neighbour
    keep[keep.all(axis=1), -1] = False
    return (
        idx[keep].reshape(len(q), k).astype(np.int64),
        sims[keep].reshape(len(q), k).astype(np.float32),
    )


def _knn_sets(x: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k nearest points (euclidean, self excluded) of ``x[rows]``."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k + 1).fit(x)
    idx = nn.kneighbors(x[rows], return_distance=False)
    out = np.empty((len(rows), k), dtype=np.int64)
    for i, (r, row) in enumerate(zip(rows, idx, strict=True)):
        out[i] = [j for j in row if j != r][:k]
    return out


@dataclass
class TrustReport:
    """How well a map keeps neighbourhoods.

    :param trustworthiness: in [0, 1]; 1 means no false neighbours on the map.
    :param neighbours_kept: mean share of each point's k full-space neighbours kept on the map.
    :param per_point: (n,) share kept per point; NaN for points outside ``sampled`` rows.
    :param k: neighbourhood size.
    :param sample: number of points each score was computed on (== n when exact).
    :param note: a sentence for people (how it was computed, any sampling stated).
    """

    trustworthiness: float
    neighbours_kept: float
    per_point: np.ndarray
    k: int
    sample: int
    note: str


def map_trust(
    vectors: np.ndarray, coords: np.ndarray, *, k: int = 10, seed: int = 0
) -> TrustReport:
    """Trustworthiness and per-point neighbour preservation of ``coords`` for ``vectors``.

    Distances in the full space are euclidean on unit vectors (the same order as cosine).
    Above :data:`TRUST_SAMPLE` points trustworthiness is computed on a random sample, and
    above :data:`PER_POINT_MAX` the per-point share too; the note says so.
    """
    from sklearn.manifold import trustworthiness

    high = _unit(vectors)
    low = np.asarray(coords, dtype=np.float32)
    n = high.shape[0]
    if n < 3:
        raise TooFewPointsError(f"Trust needs at least 3 points; got {n}.")
    k = max(1, min(k, (n - 1) // 2))
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, TRUST_SAMPLE, replace=False)) if n > TRUST_SAMPLE else None
    sub_h, sub_l = (high, low) if rows is None else (high[rows], low[rows])
    tw = float(trustworthiness(sub_h, sub_l, n_neighbors=min(k, (len(sub_h) - 1) // 2)))

    per_rows = (
        np.arange(n) if n <= PER_POINT_MAX else np.sort(rng.choice(n, PER_POINT_MAX, replace=False))
    )
    hi_nn = _knn_sets(high, per_rows, k)
    lo_nn = _knn_sets(low, per_rows, k)
    kept = np.array(
        [len(set(a) & set(b)) / k for a, b in zip(hi_nn, lo_nn, strict=True)], dtype=np.float32
    )
    per_point = np.full(n, np.nan, dtype=np.float32)
    per_point[per_rows] = kept
    parts = [f"k={k}"]
    if rows is not None:
        parts.append(f"trustworthiness on a random sample of {TRUST_SAMPLE:,} of {n:,} points")
    if len(per_rows) < n:
        parts.append(f"per-point share on a random sample of {len(per_rows):,} points")
    return TrustReport(
        trustworthiness=tw,
        neighbours_kept=float(kept.mean()),
        per_point=per_point,
        k=k,
        sample=len(sub_h),
        note="; ".join(parts),
    )


@dataclass(frozen=True)
class Separability:
    """Can a k-NN classifier tell the sources apart in the full space?

    :param accuracy: mean cross-validated accuracy.
    :param baseline: accuracy of always guessing the largest source.
    :param folds: number of cross-validation folds.
    :param k: neighbours of the classifier.
    :param sources: the source names, with their sizes.
    """

    accuracy: float
    baseline: float
    folds: int
    k: int
    sources: dict[str, int]

    @property
    def verdict(self) -> str:
        """A sentence for people."""
        gain = self.accuracy - self.baseline
        if gain < 0.05:
            word = "do not separate"
        elif self.accuracy < 0.9:
            word = "partly separate"
        else:
            word = "separate clearly"
        return (
            f"The sources {word}: a {self.k}-NN classifier tells them apart with "
            f"{self.accuracy:.1%} accuracy ({self.folds}-fold CV; guessing the largest "
            f"gives {self.baseline:.1%})."
        )


def separability(
    vectors: np.ndarray, sources: list[str], *, k: int = 10, folds: int = 5, seed: int = 0
) -> Separability:
    """Cross-validated accuracy of a k-NN classifier (cosine) that predicts each row's source."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    labels = np.asarray(sources)
    names, counts = np.unique(labels, return_counts=True)
    if len(names) < 2:
        raise InputError("Separability needs at least two sources to tell apart.")
    folds = int(min(folds, counts.min()))
    if folds < 2:
        raise TooFewPointsError(
            "Separability needs at least 2 texts from every source; "
            f"{names[counts.argmin()]!r} has {counts.min()}."
        )
    k = int(max(1, min(k, len(labels) - len(labels) // folds - 1)))
    clf = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_score(clf, np.asarray(vectors, dtype=np.float32), labels, cv=cv)
    return Separability(
        accuracy=float(scores.mean()),
        baseline=float(counts.max() / counts.sum()),
        folds=folds,
        k=k,
        sources={str(a): int(b) for a, b in zip(names, counts, strict=True)},
    )


__all__ = ["Separability", "TrustReport", "map_trust", "nearest", "separability"]
