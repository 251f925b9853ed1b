"""Module caches are bounded and keyed by what determines them (issue 13)."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import numpy as np

from embedlab.explore.calibration import calibration_for, clear_calibrations

# the module, not the function embedlab.explore re-exports under the same name
analogy = importlib.import_module("embedlab.explore.analogy")


def test_unit_matrix_is_computed_once_per_matrix_and_let_go_beyond_the_bound() -> None:
    rng = np.random.default_rng(0)
    first = SimpleNamespace(matrix=rng.normal(size=(5, 3)).astype(np.float32))
    unit = analogy._unit_matrix(first)
    assert np.allclose(np.linalg.norm(unit, axis=1), 1.0)
    assert np.allclose(unit, first.matrix / np.linalg.norm(first.matrix, axis=1, keepdims=True))
    assert analogy._unit_matrix(first) is unit  # cached
    others = [SimpleNamespace(matrix=rng.normal(size=(2, 3))) for _ in range(8)]
    for model in others:
        analogy._unit_matrix(model)
    assert len(analogy._UNIT_CACHE) == analogy._UNIT_CACHE.maxsize
    assert analogy._unit_matrix(first) is not unit  # dropped, so recomputed


def test_calibration_is_cached_by_fingerprint(minilm) -> None:
    clear_calibrations()
    cal = calibration_for(minilm)
    assert calibration_for(minilm) is cal and cal.fingerprint == minilm.info.fingerprint
