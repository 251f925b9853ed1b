"""Trust: a PCA map of noise is not to be trusted, one of separated clusters is."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.manifold import trustworthiness

from embedlab.errors import InputError
from embedlab.maps.projection import project
from embedlab.maps.trust import map_trust, nearest, separability


def test_pca_map_of_high_dimensional_noise_is_untrustworthy_and_clusters_are_trusted() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(400, 256)).astype(np.float32)
    low = map_trust(noise, project(noise, "pca").coords)
    centres = rng.normal(size=(5, 256)) * 10
    blobs = np.vstack([c + rng.normal(size=(80, 256)) for c in centres]).astype(np.float32)
    high = map_trust(blobs, project(blobs, "pca").coords)
    assert low.trustworthiness < 0.65 and low.neighbours_kept < 0.1
    assert high.trustworthiness > 0.9
    assert high.trustworthiness - low.trustworthiness > 0.3
    assert low.per_point.shape == (400,) and not np.isnan(low.per_point).any()


def test_trustworthiness_equals_scikit_learn_on_unit_vectors() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 32)).astype(np.float32)
    coords = project(x, "pca").coords
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert map_trust(x, coords, k=7).trustworthiness == pytest.approx(
        trustworthiness(unit, coords, n_neighbors=7), abs=1e-9
    )


def test_per_point_share_is_one_when_the_map_is_the_space() -> None:
    angles = np.random.default_rng(2).uniform(0, 2 * np.pi, 100)
    x = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)  # unit already
    t = map_trust(x, x, k=5)
    assert t.trustworthiness == pytest.approx(1.0) and t.neighbours_kept == pytest.approx(1.0)
    assert t.per_point.min() == pytest.approx(1.0)


def test_nearest_is_exact_cosine_and_excludes_self() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 16)).astype(np.float32)
    idx, sims = nearest(x, x[:2], k=4, exclude=np.array([0, 1]))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    full = unit[:2] @ unit.T
    full[0, 0] = full[1, 1] = -np.inf
    np.testing.assert_array_equal(idx, np.argsort(-full, axis=1)[:, :4])
    assert sims[0, 0] == pytest.approx(full[0].max(), abs=1e-6)


def test_separability_of_two_sources(topic_corpus) -> None:
    v, topics = topic_corpus.vectors, np.array(topic_corpus.topics)
    apart = separability(v[topics != "syria"], list(topics[topics != "syria"]))
    assert apart.accuracy > 0.9 and "separate clearly" in apart.verdict
    rng = np.random.default_rng(0)
    random_split = list(rng.permutation(["a", "b"] * (len(v) // 2) + ["a"] * (len(v) % 2)))
    mixed = separability(v, random_split)
    assert mixed.accuracy < 0.7 and mixed.baseline == pytest.approx(0.5, abs=0.01)
    with pytest.raises(InputError, match="two sources"):
        separability(v, ["a"] * len(v))


def test_faiss_path_equals_the_numpy_path(monkeypatch) -> None:
    from embedlab.maps import trust

    x = np.random.default_rng(4).normal(size=(300, 24)).astype(np.float32)
    exclude = np.arange(300)
    ref_i, ref_s = nearest(x, x, k=6, exclude=exclude)
    monkeypatch.setattr(trust, "FAISS_ABOVE", 0)
    got_i, got_s = nearest(x, x, k=6, exclude=exclude)
    np.testing.assert_array_equal(got_i, ref_i)
    np.testing.assert_allclose(got_s, ref_s, atol=1e-5)
    assert (got_i != exclude[:, None]).all()
    q_i, _ = nearest(x, x[:5], k=3)
    assert (q_i[:, 0] == np.arange(5)).all()  # without exclusion a point finds itself
