"""Clusters found in the full embedding space, labelled by their most distinctive words.

- :func:`find_clusters`: HDBSCAN (``"auto"``: it picks the number) or k-means (a number).
  Vectors are unit-normalised first (euclidean then orders like cosine); large inputs are
  reduced by PCA to 50 dims first (stated in the result's note).
- :func:`ctfidf_labels`: class-based TF-IDF (Grootendorst 2022, BERTopic): the texts of a
  cluster are one document; a word scores ``tf(word, cluster) * log(1 + A / f(word))`` with
  ``A`` the mean number of words per cluster and ``f`` the word's frequency over all.
- :func:`find_outliers`: distance to the nearest neighbours, or Local Outlier Factor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from embedlab.errors import InputError, TooFewPointsError
from embedlab.vectors.similarity import normalize, top_k

#: above this many points clustering and outliers work on a 50-dim PCA of the vectors.
REDUCE_ABOVE = 5000
NOISE = -1


@dataclass(frozen=True)
class Cluster:
    """One cluster: its id, size and most distinctive words."""

    id: int
    size: int
    words: list[str]

    @property
    def label(self) -> str:
        """The top words joined, e.g. ``"brexit / eu / vote"``."""
        return " / ".join(self.words[:3]) if self.words else f"cluster {self.id}"


@dataclass
class Clustering:
    """Cluster of every point (``-1``: noise, HDBSCAN only) and the clusters' labels."""

    labels: np.ndarray
    clusters: list[Cluster]
    method: str
    note: str = ""
    by_id: dict[int, Cluster] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id = {c.id: c for c in self.clusters}

    def label_of(self, i: int) -> str:
        """The label of point ``i``'s cluster (``"noise"`` for HDBSCAN's unclustered)."""
        c = int(self.labels[i])
        return "noise" if c == NOISE else self.by_id[c].label


def _prepare(vectors: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    x = normalize(vectors)
    if x.shape[0] > REDUCE_ABOVE and x.shape[1] > 50:
        from sklearn.decomposition import PCA

        x = PCA(n_components=50, random_state=seed).fit_transform(x).astype(np.float32)
        return x, f"on a 50-dim PCA of the {x.shape[0]:,} vectors"
    return x, "in the full space"


def _kmeans(x: np.ndarray, n: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if x.shape[0] > 20_000:
        model = MiniBatchKMeans(n_clusters=n, random_state=seed, n_init=3, batch_size=4096)
    else:
        model = KMeans(n_clusters=n, random_state=seed, n_init=4)
    return np.asarray(model.fit_predict(x), dtype=np.int64)


def _hdbscan(x: np.ndarray, min_size: int) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    min_samples = min(min_size, max(2, x.shape[0] // 500))
    model = HDBSCAN(min_cluster_size=min_size, min_samples=min_samples, copy=True)
    return np.asarray(model.fit_predict(x), dtype=np.int64)


def find_clusters(
    vectors: np.ndarray,
    texts: list[str],
    *,
    n_clusters: int | str = "auto",
    seed: int = 0,
    top_words: int = 6,
) -> Clustering:
    """Cluster ``vectors`` and label each cluster by the distinctive words of its ``texts``.

    :param n_clusters: ``"auto"`` for HDBSCAN (minimum cluster size ``max(3, n/40)``, minimum
        samples ``max(2, n/500)``: small corpora keep small topics), or a
        number of clusters for k-means.
    :raises TooFewPointsError: fewer points than clusters (or than HDBSCAN needs).
    """
    n = len(texts)
    if n != len(vectors):
        raise InputError(f"{len(vectors)} vectors but {n} texts: they must be aligned.")
    x, where = _prepare(vectors, seed)
    if n_clusters == "auto":
        min_size = max(3, n // 40)
        if n < 2 * min_size:
            raise TooFewPointsError(
                f"HDBSCAN needs at least {2 * min_size} points; got {n}. "
                "Give a number of clusters (k-means) or more texts."
            )
        labels, method = _hdbscan(x, min_size), f"HDBSCAN (min cluster size {min_size})"
    else:
        k = _as_count(n_clusters)
        if n < k:
            raise TooFewPointsError(
                f"k-means with {k} clusters needs at least {k} points; got {n}."
            )
        labels, method = _kmeans(x, k, seed), f"k-means (k={k}, seed {seed})"
    words = ctfidf_labels(texts, labels, top=top_words)
    ids, sizes = np.unique(labels[labels != NOISE], return_counts=True)
    clusters = [
        Cluster(int(c), int(s), words.get(int(c), [])) for c, s in zip(ids, sizes, strict=True)
    ]
    clusters.sort(key=lambda c: -c.size)
    noise = int((labels == NOISE).sum())
    note = f"{method} {where}" + (f"; {noise} points left unclustered" if noise else "")
    return Clustering(labels=labels, clusters=clusters, method=method, note=note)


def _as_count(value: int | str) -> int:
    try:
        k = int(value)
    except (TypeError, ValueError):
        raise InputError(f"Clusters must be 'auto' or a number; got {value!r}.") from None
    if k < 1:
        raise InputError(f"The number of clusters must be at least 1; got {k}.")
    return k


#: the commonest function words of the other languages the lab's corpora hold (French,
#: German, Spanish, Dutch), so a cluster of such texts is labelled by its content words.
OTHER_STOP_WORDS = frozenset(
    [
        "les",
        "des",
        "une",
        "est",
        "que",
        "qui",
        "dans",
        "pour",
        "pas",
        "sur",
        "par",
        "avec",
        "son",
        "ses",
        "aux",
        "plus",
        "mais",
        "ont",
        "été",
        "cette",
        "sont",
        "leur",
        "elle",
        "nous",
        "vous",
        "ils",
        "être",
        "fait",
        "comme",
        "tout",
        "bien",
        "très",
        "aussi",
        "même",
        "der",
        "die",
        "das",
        "und",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "einen",
        "nicht",
        "sich",
        "mit",
        "auf",
        "für",
        "ist",
        "von",
        "sie",
        "als",
        "auch",
        "wir",
        "ihr",
        "sind",
        "wird",
        "werden",
        "noch",
        "nach",
        "bei",
        "aus",
        "wie",
        "oder",
        "zum",
        "zur",
        "über",
        "vor",
        "hat",
        "los",
        "las",
        "del",
        "una",
        "por",
        "con",
        "para",
        "como",
        "más",
        "pero",
        "sus",
        "han",
        "fue",
        "este",
        "esta",
        "son",
        "sin",
        "sobre",
        "muy",
        "también",
        "entre",
        "cuando",
        "todo",
        "hay",
        "ser",
        "desde",
        "nos",
        "les",
        "het",
        "een",
        "van",
        "zijn",
        "niet",
        "met",
        "voor",
        "dat",
        "die",
        "aan",
        "ook",
        "als",
        "bij",
        "maar",
        "nog",
        "wordt",
    ]
)


def ctfidf_labels(texts: list[str], labels: np.ndarray, *, top: int = 6) -> dict[int, list[str]]:
    """The ``top`` most distinctive words of each cluster by class-based TF-IDF.

    Noise (``-1``) is left out. Stop words (English, and :data:`OTHER_STOP_WORDS`) and
    tokens of fewer than 3 letters are ignored.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    classes = sorted(int(c) for c in set(labels.tolist()) if c != NOISE)
    if not classes:
        return {}
    docs = [" ".join(t for t, c in zip(texts, labels, strict=True) if c == k) for k in classes]
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    stop = sorted(ENGLISH_STOP_WORDS | OTHER_STOP_WORDS)
    vec = CountVectorizer(stop_words=stop, token_pattern=r"(?u)\b[^\W\d_]{3,}\b")
    try:
        counts = vec.fit_transform(docs).toarray().astype(np.float64)
    except ValueError:  # every word was a stop word
        return {k: [] for k in classes}
    vocab = vec.get_feature_names_out()
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    mean_words = counts.sum() / len(classes)
    idf = np.log(1.0 + mean_words / np.maximum(counts.sum(axis=0), 1.0))
    scores = tf * idf
    out: dict[int, list[str]] = {}
    for row, k in enumerate(classes):
        order = top_k(scores[row], top)
        out[k] = [str(vocab[j]) for j in order if counts[row, j] > 0]
    return out


@dataclass
class Outliers:
    """Points the Local Outlier Factor flags, most unusual first."""

    indices: np.ndarray
    scores: np.ndarray
    note: str

    @property
    def mask(self) -> np.ndarray:
        """Boolean (n,) flag per point."""
        m = np.zeros(len(self.scores), dtype=bool)
        m[self.indices] = True
        return m


def _knn_scores(x: np.ndarray, k: int) -> np.ndarray:
    from embedlab.maps.trust import nearest

    _, sims = nearest(x, x, k=k, exclude=np.arange(len(x)))
    return (1.0 - sims.mean(axis=1)).astype(np.float32)


def _lof_scores(x: np.ndarray, k: int) -> np.ndarray:
    from sklearn.neighbors import LocalOutlierFactor

    lof = LocalOutlierFactor(n_neighbors=k).fit(x)
    return (-lof.negative_outlier_factor_).astype(np.float32)


#: outlier scores (higher: more unusual), with the sentence that names them.
OUTLIER_METHODS = {
    "knn": (_knn_scores, "mean cosine distance to the {k} nearest neighbours"),
    "lof": (_lof_scores, "Local Outlier Factor (k={k})"),
}


def find_outliers(
    vectors: np.ndarray, *, method: str = "knn", k: int = 10, share: float = 0.02, seed: int = 0
) -> Outliers:
    """Flag the ``share`` most unusual points in the full space.

    ``knn`` (default) scores a point by its mean cosine distance to its ``k`` nearest
    neighbours; ``lof`` by the Local Outlier Factor (Breunig et al. 2000). On real news
    vectors an off-topic text ranks first by ``knn`` but only 4th-35th by LOF (which
    measures density relative to the neighbours, so cluster fringes outrank a lone point):
    hence the default. LOF's own ``"auto"`` threshold almost never fires in 384 dims, so
    both flag a fixed share and report every point's score.

    :return: flagged indices, most unusual first, and the score of every point.
    """
    if method not in OUTLIER_METHODS:
        raise InputError(f"Unknown outlier method {method!r}: use {', '.join(OUTLIER_METHODS)}.")
    x, where = _prepare(vectors, seed)
    n = x.shape[0]
    if n < 3:
        raise TooFewPointsError(f"Outlier detection needs at least 3 points; got {n}.")
    k = min(k, n - 1)
    score, name = OUTLIER_METHODS[method]
    scores = score(x, k)
    flagged = top_k(scores, max(1, int(round(share * n))))
    note = f"{name.format(k=k)}, the {share:.0%} most unusual, {where}"
    return Outliers(flagged.astype(np.int64), scores, note)


__all__ = [
    "Cluster",
    "Clustering",
    "Outliers",
    "ctfidf_labels",
    "find_clusters",
    "find_outliers",
]
