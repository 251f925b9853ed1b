"""2-D projections of a set of vectors: PCA, t-SNE and UMAP with fixed seeds.

Every method is a :class:`MethodSpec` in :data:`METHODS` (a registry, so error messages list
the current names). Large inputs go through PCA to :data:`PRE_PCA_DIMS` dimensions before
t-SNE or UMAP (the usual practice: it removes noise and makes the neighbour search cheap).
Nothing is ever sampled silently: a method that cannot take the size raises
:class:`~embedlab.errors.TooManyPointsError`, which states the sample size it can take.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedlab.errors import (
    DegenerateVectorsError,
    DimensionMismatchError,
    InputError,
    TooFewPointsError,
    TooManyPointsError,
)

#: ``progress(stage, fraction)``: called at the start of each stage and with 1.0 at the end.
Progress = Callable[[str, float], None]

#: dimensions PCA keeps before t-SNE / UMAP when the input has more.
PRE_PCA_DIMS = 50
#: inputs with at least this many points (and more dims than PRE_PCA_DIMS) get the PCA step.
PRE_PCA_MIN_POINTS = 2000


@dataclass(frozen=True)
class MethodSpec:
    """One projection method.

    :param name: registry key (``pca``, ``tsne``, ``umap``).
    :param min_points: fewest points it can project.
    :param max_points: most points it takes here (``None``: no limit).
    :param can_transform: whether a new vector can be placed with the fitted model.
    :param description: one line for help texts.
    """

    name: str
    min_points: int
    max_points: int | None
    can_transform: bool
    description: str


METHODS: dict[str, MethodSpec] = {
    "pca": MethodSpec("pca", 3, None, True, "linear, exact, instant; keeps global distances"),
    "umap": MethodSpec("umap", 16, None, True, "keeps local neighbourhoods; places new points"),
    "tsne": MethodSpec(
        "tsne",
        10,
        50_000,
        False,
        "keeps local neighbourhoods; slow; new points placed at their neighbours' mean",
    ),
}


@dataclass
class Projection:
    """2-D coordinates of a set of vectors and what made them.

    :param coords: (n, 2) float32, row i is vector i.
    :param method: the :data:`METHODS` key.
    :param params: the parameters that decide the coordinates (seed included).
    :param seconds: time the projection took (0 when read from a cache).
    :param pre_pca: dims of the PCA step before the method, or ``None``.
    :param model: the fitted objects, for :func:`place`; ``None`` when read from a cache.
    :param cached: whether the coordinates came from the cache.
    """

    coords: np.ndarray
    method: str
    params: dict[str, Any]
    seconds: float = 0.0
    pre_pca: int | None = None
    model: dict[str, Any] | None = field(default=None, repr=False)
    cached: bool = False


def method_spec(method: str) -> MethodSpec:
    """The spec of ``method``; an :class:`InputError` lists the known ones."""
    try:
        return METHODS[method]
    except KeyError:
        raise InputError(
            f"Unknown projection method {method!r}: choose one of {', '.join(METHODS)}."
        ) from None


def check_vectors(vectors: np.ndarray, method: str) -> np.ndarray:
    """Validate ``vectors`` for ``method``: enough points, not too many, not all the same.

    :return: the vectors as a C-contiguous float32 matrix.
    """
    spec = method_spec(method)
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise DimensionMismatchError(f"Expected an (n, d) matrix of vectors, got shape {x.shape}.")
    n = x.shape[0]
    if n < spec.min_points:
        raise TooFewPointsError(
            f"{spec.name} needs at least {spec.min_points} points; got {n}. "
            "Add more texts or choose pca (needs 3)."
        )
    if spec.max_points is not None and n > spec.max_points:
        raise TooManyPointsError(
            f"{spec.name} takes at most {spec.max_points:,} points here; got {n:,}. "
            f"Map a random sample of {spec.max_points:,} points (sample={spec.max_points}, "
            f"--sample {spec.max_points}) or use umap, which takes all {n:,}."
        )
    if not np.isfinite(x).all():
        raise InputError("Some vectors hold NaN or infinite values: re-embed the texts.")
    if float(np.ptp(x, axis=0).max()) < 1e-7:
        raise DegenerateVectorsError(
            f"All {n} texts embed to the same vector, so there is nothing to map: "
            "check that the texts differ (empty or identical rows?)."
        )
    return x


def _pre_reduce(x: np.ndarray, seed: int) -> tuple[np.ndarray, Any]:
    from sklearn.decomposition import PCA

    pca = PCA(n_components=PRE_PCA_DIMS, random_state=seed)
    return pca.fit_transform(x).astype(np.float32), pca


def _fit_pca(x: np.ndarray, seed: int, params: dict[str, Any]) -> tuple[np.ndarray, Any]:
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=seed)
    return pca.fit_transform(x), pca


def _fit_tsne(x: np.ndarray, seed: int, params: dict[str, Any]) -> tuple[np.ndarray, Any]:
    from sklearn.manifold import TSNE

    perplexity = min(float(params["perplexity"]), (x.shape[0] - 1) / 3.0)
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        max_iter=int(params["max_iter"]),
        random_state=seed,
    )
    return tsne.fit_transform(x), None


def _fit_umap(x: np.ndarray, seed: int, params: dict[str, Any]) -> tuple[np.ndarray, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap warns that a seed turns off its threads
        import umap

        n_neighbors = min(int(params["n_neighbors"]), x.shape[0] - 1)
        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=n_neighbors,
            min_dist=float(params["min_dist"]),
            metric=str(params["metric"]),
            n_epochs=params["n_epochs"],
            random_state=seed,
        )
        return reducer.fit_transform(x), reducer


_FITTERS: dict[str, Callable[[np.ndarray, int, dict[str, Any]], tuple[np.ndarray, Any]]] = {
    "pca": _fit_pca,
    "tsne": _fit_tsne,
    "umap": _fit_umap,
}

#: default parameters per method (they enter the cache key).
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "pca": {},
    "tsne": {"perplexity": 30.0, "max_iter": 1000},
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "metric": "cosine", "n_epochs": None},
}


def resolved_params(method: str, n: int, dims: int, seed: int, **params: Any) -> dict[str, Any]:
    """The full parameter record of a projection (defaults, seed and the PCA step)."""
    spec = method_spec(method)
    out: dict[str, Any] = dict(DEFAULT_PARAMS[spec.name])
    unknown = set(params) - set(out)
    if unknown:
        raise InputError(
            f"{spec.name} has no parameter {', '.join(sorted(unknown))}; "
            f"it takes: {', '.join(out) or 'none'}."
        )
    out.update(params)
    out["seed"] = seed
    use_pre = spec.name != "pca" and n >= PRE_PCA_MIN_POINTS and dims > PRE_PCA_DIMS
    out["pre_pca"] = PRE_PCA_DIMS if use_pre else None
    return out


def project(
    vectors: np.ndarray,
    method: str = "pca",
    *,
    seed: int = 0,
    progress: Progress | None = None,
    **params: Any,
) -> Projection:
    """Project ``vectors`` to 2-D with ``method``; the same input and seed give the same map.

    :param vectors: (n, d) matrix.
    :param method: a key of :data:`METHODS`.
    :param seed: random seed of every random step.
    :param progress: called as ``progress(stage, fraction)`` while it works.
    :param params: method parameters (see :data:`DEFAULT_PARAMS`).
    :raises TooFewPointsError: fewer points than the method needs (the message says how many).
    :raises TooManyPointsError: more than the method takes here (the message offers a sample).
    :raises DegenerateVectorsError: all vectors are the same.
    """
    report = progress or (lambda stage, fraction: None)
    x = check_vectors(vectors, method)
    full = resolved_params(method, x.shape[0], x.shape[1], seed, **params)
    start = time.perf_counter()
    model: dict[str, Any] = {}
    if full["pre_pca"]:
        report(f"PCA to {PRE_PCA_DIMS} dims", 0.0)
        x, model["pre_pca"] = _pre_reduce(x, seed)
    report(f"fitting {method}", 0.1)
    coords, model["fitted"] = _FITTERS[method](x, seed, full)
    report("done", 1.0)
    return Projection(
        coords=np.asarray(coords, dtype=np.float32),
        method=method,
        params=full,
        seconds=time.perf_counter() - start,
        pre_pca=full["pre_pca"],
        model=model,
    )


@dataclass(frozen=True)
class Placement:
    """Where new vectors land on a map.

    :param coords: (m, 2) coordinates.
    :param how: ``"transform"`` (the fitted model placed them) or ``"neighbour-mean"`` (mean
        of the map coordinates of their k nearest neighbours in the full space).
    :param note: a sentence saying how they were placed, for people.
    """

    coords: np.ndarray
    how: str
    note: str


def neighbour_mean(
    projection: Projection, vectors: np.ndarray, new: np.ndarray, k: int = 10
) -> Placement:
    """Place ``new`` at the mean map position of its ``k`` nearest neighbours (cosine)."""
    from embedlab.maps.trust import nearest

    idx, _ = nearest(vectors, new, k=k)
    coords = projection.coords[idx].mean(axis=1)
    return Placement(
        coords.astype(np.float32),
        "neighbour-mean",
        f"{projection.method} cannot place new points: each is shown at the mean position of "
        f"its {idx.shape[1]} nearest neighbours in the full space.",
    )


def place(projection: Projection, vectors: np.ndarray, new: np.ndarray, k: int = 10) -> Placement:
    """Place new vectors (e.g. an embedded query) on an existing map.

    PCA and UMAP use the fitted model (``transform``); t-SNE, or a map read from the cache
    without its fitted model, falls back to :func:`neighbour_mean` and says so.

    :param vectors: the (n, d) vectors the map was made from.
    :param new: (m, d) vectors to place.
    """
    new = np.atleast_2d(np.asarray(new, dtype=np.float32))
    if new.shape[1] != vectors.shape[1]:
        raise DimensionMismatchError(
            f"The new vectors have {new.shape[1]} dims but the map's have {vectors.shape[1]}: "
            "embed them with the map's model."
        )
    model = projection.model or {}
    if not METHODS[projection.method].can_transform or model.get("fitted") is None:
        return neighbour_mean(projection, vectors, new, k=k)
    x = new
    if model.get("pre_pca") is not None:
        x = model["pre_pca"].transform(x).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coords = model["fitted"].transform(x)
    return Placement(
        np.asarray(coords, dtype=np.float32),
        "transform",
        f"placed by the fitted {projection.method} model (transform).",
    )


__all__ = [
    "DEFAULT_PARAMS",
    "METHODS",
    "MethodSpec",
    "Placement",
    "Projection",
    "check_vectors",
    "method_spec",
    "neighbour_mean",
    "place",
    "project",
    "resolved_params",
]
