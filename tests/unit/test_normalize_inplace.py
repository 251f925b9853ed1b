"""vectors.normalize, the one L2 normalisation (issue 13): the in-place form the encoders
use on their own batches divides the array itself and equals the copying form."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import InputError
from embedlab.vectors import normalize


def test_inplace_divides_the_array_itself_and_equals_the_copy() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 5)).astype(np.float32)
    x[2] = 0.0  # a zero row stays zero
    expected = x.astype(np.float64) / np.maximum(
        np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True), 1e-12
    )
    copied = normalize(x)
    assert copied is not x and not np.allclose(x[0], copied[0])  # x untouched
    out = normalize(x, inplace=True)
    assert out is x and out.dtype == np.float32
    np.testing.assert_allclose(x, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(x, copied)
    assert not x[2].any()
    np.testing.assert_allclose(np.linalg.norm(np.delete(x, 2, axis=0), axis=1), 1.0, rtol=1e-6)


def test_inplace_refuses_an_array_it_cannot_divide_as_float32() -> None:
    with pytest.raises(InputError, match="writeable float32"):
        normalize(np.ones((2, 3)), inplace=True)  # float64: dividing it would not be float32
    frozen = np.ones((2, 3), dtype=np.float32)
    frozen.flags.writeable = False
    with pytest.raises(InputError, match="inplace=False"):
        normalize(frozen, inplace=True)
