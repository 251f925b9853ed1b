"""The vector toolkit against plain numpy formulas."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import DimensionMismatchError, InputError
from embedlab.vectors import (
    Calibration,
    bytes_per_vector,
    cosine_matrix,
    euclidean_matrix,
    hamming_matrix,
    similarity,
    to_binary,
    to_int8,
    top_k,
    truncate,
    vector_stats,
)

rng = np.random.default_rng(0)


def test_cosine_dot_euclidean_match_formulas() -> None:
    a, b = rng.normal(size=(4, 16)), rng.normal(size=(3, 16))
    expected = (a @ b.T) / np.outer(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(cosine_matrix(a, b), expected, atol=1e-5)
    np.testing.assert_allclose(
        euclidean_matrix(a, b), np.linalg.norm(a[:, None] - b[None], axis=-1), atol=1e-4
    )
    assert similarity(a[0], b[0], "dot") == pytest.approx(float(a[0] @ b[0]), rel=1e-5)


def test_mismatched_dims_and_unknown_metric_are_clear() -> None:
    with pytest.raises(DimensionMismatchError, match="16 and 8 dimensions"):
        cosine_matrix(np.ones(16), np.ones(8))
    with pytest.raises(InputError, match="cosine, dot, euclidean"):
        similarity(np.ones(3), np.ones(3), "manhattan")


def test_stats_and_sparsity() -> None:
    v = np.array([0.0, 0.0005, -2.0, 1.0], dtype=np.float32)
    s = vector_stats(v, top=2)
    assert s.dims == 4 and s.min == -2.0 and s.max == 1.0
    assert s.sparsity == 0.5
    assert s.top_dims[0] == (2, -2.0)
    assert s.l2_norm == pytest.approx(np.sqrt(5.00000025), rel=1e-6)


def test_truncate_renormalises_and_rejects_bad_dims() -> None:
    x = rng.normal(size=(5, 32))
    t = truncate(x, 8)
    assert t.shape == (5, 8)
    np.testing.assert_allclose(np.linalg.norm(t, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(
        t, x[:, :8] / np.linalg.norm(x[:, :8], axis=1, keepdims=True), atol=1e-6
    )
    with pytest.raises(InputError, match="1..32"):
        truncate(x, 64)


def test_quantized_rankings_follow_float_rankings() -> None:
    docs = rng.normal(size=(500, 64)).astype(np.float32)
    q = docs[7] + 0.1 * rng.normal(size=64).astype(np.float32)
    assert to_int8(docs).dtype == np.int8
    bits = to_binary(docs)
    assert bits.shape == (500, 8) and bytes_per_vector(64, "binary") == 8
    ham = hamming_matrix(to_binary(q[None]), bits)[0]
    assert int(np.argmin(ham)) == 7
    # hamming on packed bits equals counting differing signs
    assert ham[3] == int(np.sum((q > 0) != (docs[3] > 0)))


def test_top_k_orders_best_first_with_stable_ties() -> None:
    s = np.array([0.1, 0.9, 0.5, 0.9, 0.2])
    assert top_k(s, 3).tolist() == [1, 3, 2]
    assert top_k(s, 2, higher_is_better=False).tolist() == [0, 4]


def test_calibration_percentiles() -> None:
    cal = Calibration(scores=np.linspace(0.0, 1.0, 101, dtype=np.float32))
    assert cal.percentile(0.5) == pytest.approx(50.0, abs=1.0)
    assert cal.percentile(2.0) == 100.0
    assert "strongly related" in cal.describe(2.0)
