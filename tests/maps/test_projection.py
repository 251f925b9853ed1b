"""Projections: fixed seeds, placement of new points, and clear errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from embedlab.errors import (
    DegenerateVectorsError,
    DimensionMismatchError,
    InputError,
    TooFewPointsError,
    TooManyPointsError,
)
from embedlab.maps import projection
from embedlab.maps.projection import METHODS, MethodSpec, place, project


def blobs(n_per: int = 40, centres: int = 3, dims: int = 64, spread: float = 0.15, seed: int = 0):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, dims))
    x = np.vstack([c[i] + spread * rng.normal(size=(n_per, dims)) for i in range(centres)])
    return x.astype(np.float32), np.repeat(np.arange(centres), n_per)


FAST = {"pca": {}, "tsne": {"max_iter": 250}, "umap": {"n_epochs": 50}}


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
def test_same_seed_same_coordinates(method: str) -> None:
    x, _ = blobs(n_per=20)  # 60 points: enough for every method, cheap for t-SNE
    a = project(x, method, seed=7, **FAST[method])
    b = project(x, method, seed=7, **FAST[method])
    assert a.coords.shape == (len(x), 2) and a.coords.dtype == np.float32
    np.testing.assert_array_equal(a.coords, b.coords)
    assert a.params["seed"] == 7


def test_pca_matches_scikit_learn_and_places_new_points_by_transform() -> None:
    x, _ = blobs()
    p = project(x, "pca")
    ref = PCA(n_components=2, random_state=0).fit(x)
    np.testing.assert_allclose(p.coords, ref.transform(x), atol=1e-4)
    new = x[:3] + 0.01
    placed = place(p, x, new)
    assert placed.how == "transform"
    np.testing.assert_allclose(placed.coords, ref.transform(new), atol=1e-4)


def test_tsne_places_a_query_at_its_neighbours_mean_and_says_so() -> None:
    x, labels = blobs()
    p = project(x, "tsne", max_iter=250)
    placed = place(p, x, x[labels == 2][:1], k=5)
    assert placed.how == "neighbour-mean" and "nearest neighbours" in placed.note
    centre = p.coords[labels == 2].mean(axis=0)
    others = p.coords[labels != 2].mean(axis=0)
    assert np.linalg.norm(placed.coords[0] - centre) < np.linalg.norm(placed.coords[0] - others)


def test_large_inputs_go_through_pca_50_first_and_progress_is_reported(monkeypatch) -> None:
    monkeypatch.setattr(projection, "PRE_PCA_MIN_POINTS", 100)
    x, _ = blobs(n_per=50, dims=80)
    stages: list[str] = []
    p = project(x, "tsne", max_iter=250, progress=lambda stage, f: stages.append(stage))
    assert p.pre_pca == 50 and p.params["pre_pca"] == 50
    assert stages[0].startswith("PCA to 50") and stages[-1] == "done"


def test_too_few_points_says_how_many_are_needed() -> None:
    x, _ = blobs(n_per=3, centres=2)
    with pytest.raises(TooFewPointsError, match="umap needs at least 16 points; got 6"):
        project(x, "umap")
    with pytest.raises(TooFewPointsError, match="pca needs at least 3"):
        project(x[:2], "pca")


def test_too_many_points_offers_a_stated_sample(monkeypatch) -> None:
    monkeypatch.setitem(METHODS, "tsne", MethodSpec("tsne", 10, 100, False, "test"))
    x, _ = blobs()
    with pytest.raises(TooManyPointsError, match="at most 100 points here; got 120.*sample of 100"):
        project(x, "tsne")


def test_identical_vectors_and_bad_input_are_refused() -> None:
    same = np.tile(np.arange(8, dtype=np.float32), (20, 1))
    with pytest.raises(DegenerateVectorsError, match="All 20 texts embed to the same vector"):
        project(same, "pca")
    with pytest.raises(InputError, match="choose one of pca, umap, tsne"):
        project(blobs()[0], "mds")
    with pytest.raises(InputError, match="no parameter perplexty"):
        project(blobs()[0], "tsne", perplexty=5)
    p = project(blobs()[0], "pca")
    with pytest.raises(DimensionMismatchError, match="embed them with the map's model"):
        place(p, blobs()[0], np.zeros((1, 3), dtype=np.float32))
