"""One storage function: the cost calculator, the Search page's panel, the grid (and so the
Pareto chart) all report the bytes the search layer really keeps per vector (issue 15, #6)."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.evaluate.cost import estimate_cost
from embedlab.search.costs import measure_costs
from embedlab.stores.dense import DenseIndex


def _stored_bytes(index: DenseIndex, d: int, q: str | None) -> int:
    """Bytes per row of the array the first stage actually scans (read off the cache)."""
    if q is None and d == index.dims:
        return int(index.vectors.nbytes // index.n)
    key = {None: f"bf16-{d}", "int8": f"int8-{d}", "binary": f"binary-{d}"}[q]
    held = index._cache[key]
    if q == "int8":
        held = held[0]
    if q == "binary":  # a FAISS IndexBinaryFlat: code_size bytes a vector
        return int(held.code_size)
    return int(held.nbytes // index.n)


@pytest.mark.parametrize(
    ("d", "q"), [(384, None), (128, None), (64, None), (128, "int8"), (384, "binary")]
)
def test_calculator_panel_and_grid_agree_with_what_is_stored(d: int, q: str | None) -> None:
    rng = np.random.default_rng(0)
    index = DenseIndex(rng.standard_normal((1200, 384)).astype(np.float32))
    query = rng.standard_normal(384).astype(np.float32)
    index.search(query, 10, dims=d if d < 384 else None, quantize=q, exact=True)
    stored = _stored_bytes(index, d, q)
    calc = estimate_cost(1200, model_dims=384, dims=d, quantize=q or "none", sample=1200)
    panel = {(r.dims, r.quantize): r.bytes_per_vector for r in measure_costs(index, query)}
    grid = index.bytes_per_vector(d if d < 384 else None, q)  # what the grid rows carry
    assert calc.bytes_per_vector == panel[(d, q)] == grid == stored
    assert calc.storage_bytes == 1200 * stored
