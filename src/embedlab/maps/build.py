"""A corpus map: vectors -> projection + clusters + outliers + trust, cached and reusable.

:func:`build_map` is the one entry point the CLI, the web lab and notebooks call. Every
expensive step is cached on disk (under the index's folder when the corpus is one index,
else under ``settings.cache_dir("maps")``) keyed by the vectors' hash and the parameters,
so a second map of the same input is read back, not recomputed.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.bounded import BoundedCache
from embedlab.errors import InputError
from embedlab.maps import cache
from embedlab.maps.clusters import Cluster, Clustering, Outliers, find_clusters, find_outliers
from embedlab.maps.projection import (
    Placement,
    Progress,
    Projection,
    check_vectors,
    place,
    project,
    resolved_params,
)
from embedlab.maps.sources import Corpus, stored_vectors
from embedlab.maps.trust import Separability, TrustReport, map_trust, nearest, separability
from embedlab.settings import cache_dir

#: fitted projection models kept in this process (by cache key) so UMAP can place queries
#: after a cache hit (keyed by the projection's content key); the least recently used go.
_FITTED: BoundedCache[str, dict[str, Any]] = BoundedCache(6)
EMBED_BATCH = 256


class LinearMap:
    """A fitted PCA reduced to what ``transform`` needs (rebuilt from the cache)."""

    def __init__(self, mean: np.ndarray, components: np.ndarray) -> None:
        self.mean_ = mean
        self.components_ = components

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Project ``x`` like the fitted PCA did."""
        return np.asarray((x - self.mean_) @ self.components_.T, dtype=np.float32)


@dataclass
class QueryPlacement:
    """A query placed on a map, with its nearest documents in the full space."""

    text: str
    x: float
    y: float
    how: str
    note: str
    neighbours: list[tuple[int, float]]


@dataclass
class CorpusMap:
    """Everything a map shows, aligned by row with ``corpus.texts``."""

    corpus: Corpus
    vectors: np.ndarray
    projection: Projection
    clustering: Clustering
    outliers: Outliers
    trust: TrustReport
    separability: Separability | None
    model_name: str
    key: str
    seconds: dict[str, float] = field(default_factory=dict)
    cached: dict[str, bool] = field(default_factory=dict)
    sampled_from: int | None = None

    @property
    def coords(self) -> np.ndarray:
        """(n, 2) map coordinates."""
        return self.projection.coords

    @property
    def note(self) -> str:
        """How the map was made, in a few sentences (sampling, reductions, trust)."""
        parts = [f"{self.projection.method} of {len(self.corpus):,} texts ({self.model_name})"]
        if self.sampled_from:
            parts.append(f"a random sample of {len(self.corpus):,} of {self.sampled_from:,}")
        if self.projection.pre_pca:
            parts.append(f"PCA to {self.projection.pre_pca} dims first")
        parts.append(f"clusters: {self.clustering.note}")
        parts.append(f"trust: {self.trust.note}")
        return "; ".join(parts) + "."

    def colour_values(self, by: str) -> list[str] | np.ndarray:
        """Values to colour by: ``cluster``, ``trust``, ``outlier`` or a corpus field."""
        if by == "cluster":
            return [self.clustering.label_of(i) for i in range(len(self.corpus))]
        if by == "trust":
            return self.trust.per_point
        if by == "outlier":
            mask = self.outliers.mask
            return ["outlier" if m else "inlier" for m in mask]
        return self.corpus.field_values(by)

    def neighbours(self, i: int, k: int = 10) -> list[tuple[int, float]]:
        """Point ``i``'s ``k`` true nearest neighbours in the full space (cosine), best first."""
        if not 0 <= i < len(self.corpus):
            raise InputError(f"No point {i}: the map has {len(self.corpus)} points (0-based).")
        idx, sims = nearest(self.vectors, self.vectors[i : i + 1], k=k, exclude=np.array([i]))
        return [(int(j), float(s)) for j, s in zip(idx[0], sims[0], strict=True)]

    def place_vector(self, text: str, vector: np.ndarray, k: int = 10) -> QueryPlacement:
        """Place an embedded query on the map with its ``k`` nearest documents."""
        placed: Placement = place(self.projection, self.vectors, vector, k=k)
        idx, sims = nearest(self.vectors, vector, k=k)
        return QueryPlacement(
            text,
            float(placed.coords[0, 0]),
            float(placed.coords[0, 1]),
            placed.how,
            placed.note,
            [(int(j), float(s)) for j, s in zip(idx[0], sims[0], strict=True)],
        )

    def place_query(self, encoder: Any, text: str, k: int = 10) -> QueryPlacement:
        """Embed ``text`` as a query with ``encoder`` and place it (see :meth:`place_vector`)."""
        return self.place_vector(text, encoder.embed([text], role="query"), k=k)

    def rows(self) -> list[dict[str, Any]]:
        """One record per point: coordinates, cluster, outlier flag, trust, fields, text."""
        out = []
        for i, text in enumerate(self.corpus.texts):
            rec: dict[str, Any] = {
                "row": i,
                "x": float(self.coords[i, 0]),
                "y": float(self.coords[i, 1]),
                "cluster": int(self.clustering.labels[i]),
                "cluster_label": self.clustering.label_of(i),
                "outlier": bool(self.outliers.mask[i]),
                "trust": float(self.trust.per_point[i]),
            }
            rec.update({k: v[i] for k, v in self.corpus.fields.items()})
            rec["text"] = text
            out.append(rec)
        return out

    def point(self, i: int, similarity: float | None = None) -> dict[str, Any]:
        """Point ``i`` as JSON: row, map coordinates, text, cluster label and trust (None
        where unscored); ``similarity`` when given."""
        trust = float(self.trust.per_point[i])
        out: dict[str, Any] = {
            "row": i,
            "x": float(self.coords[i, 0]),
            "y": float(self.coords[i, 1]),
            "text": self.corpus.texts[i],
            "cluster": self.clustering.label_of(i),
            "trust": None if trust != trust else trust,
        }
        if similarity is not None:
            out["similarity"] = similarity
        return out

    def to_dict(self, outliers: int | None = 100) -> dict[str, Any]:
        """The map as JSON (the CLI's ``--json`` and the web lab's answer share it): counts,
        trust, separability, clusters, the first ``outliers`` outliers (all with None),
        timings and what came from the cache. Coordinates per point: :meth:`rows`."""
        sep = self.separability
        return {
            "points": len(self.corpus),
            "method": self.projection.method,
            "model": self.model_name,
            "note": self.note,
            "fields": ["cluster", "trust", "outlier", *sorted(self.corpus.fields)],
            "trust": {
                "trustworthiness": self.trust.trustworthiness,
                "neighbours_kept": self.trust.neighbours_kept,
                "k": self.trust.k,
                "note": self.trust.note,
            },
            "separability": None
            if sep is None
            else {"accuracy": sep.accuracy, "baseline": sep.baseline, "verdict": sep.verdict},
            "clusters": [
                {"id": c.id, "size": c.size, "label": c.label, "words": c.words}
                for c in self.clustering.clusters
            ],
            "clustering": self.clustering.note,
            "outliers": [
                self.point(int(i)) | {"score": float(self.outliers.scores[i])}
                for i in self.outliers.indices[:outliers]
            ],
            "sampled_from": self.sampled_from,
            "cached": self.cached,
            "seconds": self.seconds,
        }

    def write_csv(self, path: str | Path) -> Path:
        """Write :meth:`rows` as CSV; returns the path."""
        path = Path(path)
        rows = self.rows()
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return path


def _cache_folder(corpus: Corpus, use_cache: bool) -> Path | None:
    if not use_cache:
        return None
    index = corpus.index
    if index is not None and getattr(index, "folder", None) is not None:
        return Path(index.folder) / "maps"
    return cache_dir("maps")


def embed_corpus(
    corpus: Corpus,
    encoder: Any,
    *,
    progress: Progress | None = None,
    use_cache: bool = True,
) -> np.ndarray:
    """The vectors of every text: an index's stored ones, files embedded (and cached)."""
    report = progress or (lambda stage, fraction: None)
    blocks: list[np.ndarray] = []
    for part in corpus.parts:
        if part.index is not None:
            blocks.append(stored_vectors(corpus, part, encoder))
            continue
        texts = corpus.texts[part.start : part.stop]
        key = {
            "kind": "vectors",
            "model": encoder.info.fingerprint,
            "texts": cache.texts_hash(texts),
        }

        def compute(texts: list[str] = texts, name: str = part.name) -> cache.Arrays:
            out = []
            for start in range(0, len(texts), EMBED_BATCH):
                report(f"embedding {name}", start / len(texts))
                out.append(encoder.embed(texts[start : start + EMBED_BATCH], role="document"))
            return {"vectors": np.concatenate(out).astype(np.float32)}

        folder = cache_dir("maps", "vectors") if use_cache else None
        blocks.append(cache.cached(folder, key, compute)[0]["vectors"])
    return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]


def _projection(
    x: np.ndarray,
    method: str,
    seed: int,
    folder: Path | None,
    vhash: str,
    progress: Progress | None,
    params: dict[str, Any],
) -> tuple[Projection, str]:
    full = resolved_params(method, x.shape[0], x.shape[1], seed, **params)
    key = {"kind": "projection", "vectors": vhash, "method": method, "params": full}
    name = cache.key_name(key)
    fitted: dict[str, Any] = {}

    def compute() -> cache.Arrays:
        proj = project(x, method, seed=seed, progress=progress, **params)
        fitted.update(proj.model or {})
        arrays = {"coords": proj.coords, "seconds": np.array(proj.seconds)}
        for part in ("pre_pca", "fitted"):
            model = fitted.get(part)
            if model is not None and hasattr(model, "components_") and hasattr(model, "mean_"):
                arrays[f"{part}_mean"] = np.asarray(model.mean_, dtype=np.float32)
                arrays[f"{part}_components"] = np.asarray(model.components_, dtype=np.float32)
        return arrays

    arrays, hit = cache.cached(folder, key, compute)
    if hit:
        fitted = dict(_FITTED.get(name) or {})
        for part in ("pre_pca", "fitted"):
            if part not in fitted and f"{part}_mean" in arrays:
                fitted[part] = LinearMap(arrays[f"{part}_mean"], arrays[f"{part}_components"])
    _FITTED.put(name, fitted)
    seconds = 0.0 if hit else float(arrays["seconds"])
    return (
        Projection(arrays["coords"], method, full, seconds, full["pre_pca"], fitted, hit),
        name,
    )


def _clusters(
    x: np.ndarray,
    texts: list[str],
    n_clusters: int | str,
    seed: int,
    folder: Path | None,
    vhash: str,
) -> tuple[Clustering, Outliers, bool]:
    key = {
        "kind": "clusters",
        "vectors": vhash,
        "texts": cache.texts_hash(texts),
        "n_clusters": str(n_clusters),
        "seed": seed,
    }
    kept: dict[str, Any] = {}

    def compute() -> cache.Arrays:
        c = find_clusters(x, texts, n_clusters=n_clusters, seed=seed)
        o = find_outliers(x, seed=seed)
        kept.update(clustering=c, outliers=o)
        return {
            "labels": c.labels,
            "ids": np.array([k.id for k in c.clusters], dtype=np.int64),
            "sizes": np.array([k.size for k in c.clusters], dtype=np.int64),
            "words": np.array(["\t".join(k.words) for k in c.clusters], dtype=str),
            "method": np.array(c.method),
            "note": np.array(c.note),
            "out_idx": o.indices,
            "out_scores": o.scores,
            "out_note": np.array(o.note),
        }

    arrays, hit = cache.cached(folder, key, compute)
    if not hit:
        return kept["clustering"], kept["outliers"], False
    clusters = [
        Cluster(int(i), int(s), [w for w in str(ws).split("\t") if w])
        for i, s, ws in zip(arrays["ids"], arrays["sizes"], arrays["words"], strict=True)
    ]
    clustering = Clustering(arrays["labels"], clusters, str(arrays["method"]), str(arrays["note"]))
    outliers = Outliers(arrays["out_idx"], arrays["out_scores"], str(arrays["out_note"]))
    return clustering, outliers, True


def _trust(
    x: np.ndarray, proj_key: str, coords: np.ndarray, k: int, seed: int, folder: Path | None
) -> tuple[TrustReport, bool]:
    key = {"kind": "trust", "projection": proj_key, "k": k, "seed": seed}

    def compute() -> cache.Arrays:
        t = map_trust(x, coords, k=k, seed=seed)
        return {
            "tw": np.array(t.trustworthiness),
            "kept": np.array(t.neighbours_kept),
            "per_point": t.per_point,
            "k": np.array(t.k),
            "sample": np.array(t.sample),
            "note": np.array(t.note),
        }

    a, hit = cache.cached(folder, key, compute)
    report = TrustReport(
        float(a["tw"]),
        float(a["kept"]),
        a["per_point"],
        int(a["k"]),
        int(a["sample"]),
        str(a["note"]),
    )
    return report, hit


def _subset(
    corpus: Corpus, vectors: np.ndarray, sample: int, seed: int
) -> tuple[Corpus, np.ndarray]:
    from embedlab.maps.sources import SourcePart

    rows = np.sort(np.random.default_rng(seed).choice(len(corpus), sample, replace=False))
    texts = [corpus.texts[i] for i in rows]
    fields = {k: [v[i] for i in rows] for k, v in corpus.fields.items()}
    part = SourcePart(corpus.name, 0, len(rows), corpus.index)
    return Corpus(corpus.name, texts, fields, [part]), vectors[rows]


def build_map(
    corpus: Corpus,
    encoder: Any | None = None,
    *,
    vectors: np.ndarray | None = None,
    method: str = "umap",
    clusters: int | str = "auto",
    seed: int = 0,
    k: int = 10,
    sample: int | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
    model_name: str | None = None,
    **params: Any,
) -> CorpusMap:
    """Map ``corpus``: embed (or read its vectors), project, cluster, flag outliers, score trust.

    :param encoder: embeds file texts (and checks an index's model); not needed with ``vectors``.
    :param vectors: precomputed (n, d) vectors aligned with ``corpus.texts``.
    :param method: ``pca``, ``tsne`` or ``umap``.
    :param clusters: ``"auto"`` (HDBSCAN) or a number of k-means clusters.
    :param sample: map a random sample of this many points (never done unless asked).
    :param params: projection parameters (see ``projection.DEFAULT_PARAMS``).
    """
    times: dict[str, float] = {}
    start = time.perf_counter()
    if vectors is None:
        if encoder is None:
            raise InputError("build_map needs an encoder to embed the texts, or their vectors.")
        vectors = embed_corpus(corpus, encoder, progress=progress, use_cache=use_cache)
    if len(vectors) != len(corpus):
        raise InputError(f"{len(vectors)} vectors for {len(corpus)} texts: they must be aligned.")
    times["embed"] = time.perf_counter() - start
    sampled_from = None
    if sample is not None and sample < len(corpus):
        sampled_from = len(corpus)
        corpus, vectors = _subset(corpus, vectors, sample, seed)
    x = check_vectors(vectors, method)
    folder = _cache_folder(corpus, use_cache)
    vhash = cache.vectors_hash(x)

    t = time.perf_counter()
    proj, proj_key = _projection(x, method, seed, folder, vhash, progress, params)
    times["projection"] = time.perf_counter() - t
    t = time.perf_counter()
    if progress:
        progress("clusters and outliers", 0.0)
    clustering, outliers, clusters_hit = _clusters(x, corpus.texts, clusters, seed, folder, vhash)
    times["clusters"] = time.perf_counter() - t
    t = time.perf_counter()
    if progress:
        progress("trust", 0.0)
    trust, trust_hit = _trust(x, proj_key, proj.coords, k, seed, folder)
    times["trust"] = time.perf_counter() - t
    sep = None
    sources = corpus.fields["source"]
    if len(set(sources)) > 1:
        sep = separability(x, sources, k=k, seed=seed)
    times["total"] = time.perf_counter() - start
    name = model_name or (encoder.info.name if encoder is not None else "given vectors")
    return CorpusMap(
        corpus=corpus,
        vectors=x,
        projection=proj,
        clustering=clustering,
        outliers=outliers,
        trust=trust,
        separability=sep,
        model_name=name,
        key=proj_key,
        seconds=times,
        cached={"projection": proj.cached, "clusters": clusters_hit, "trust": trust_hit},
        sampled_from=sampled_from,
    )


__all__ = ["CorpusMap", "LinearMap", "QueryPlacement", "build_map", "embed_corpus"]
