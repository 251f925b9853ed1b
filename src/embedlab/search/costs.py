"""Storage and latency of each dense first stage on one index: what the Search page's panel
shows. Bytes per vector come from :func:`embedlab.vectors.first_stage_bytes`; query time is
measured here, on this index, for the query given. Recall is the first stage's own: its top
``k`` against exact search, before any rescoring (rescoring a wide candidate list would hide
what the cheap stage loses)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from embedlab.stores.dense import DenseIndex
from embedlab.stores.ivf import recall_at_k
from embedlab.vectors import first_stage_bytes

#: Matryoshka cuts tried besides the full width (those below the model's dims).
DIMS_CHOICES = (256, 128, 64)
#: first-stage precisions tried (``None`` = float32).
QUANTIZE_CHOICES: tuple[str | None, ...] = (None, "int8", "binary")
#: below this many vectors the panel's numbers mean little (see :func:`costs_note`).
MEANINGFUL_VECTORS = 2_000


def costs_note(n_vectors: int, k: int) -> str | None:
    """What the panel must say when the index is too small for its numbers to mean much."""
    if n_vectors >= MEANINGFUL_VECTORS:
        return None
    return (
        f"This index holds {n_vectors:,} vectors: every choice scans it in well under a "
        "millisecond, so the times measure fixed overheads rather than the scan, and a first "
        f"stage's recall@{k} over so few vectors (one query) says little about a large index. "
        f"Measure on an index of {MEANINGFUL_VECTORS:,} vectors or more."
    )


@dataclass(frozen=True)
class CostRow:
    """One dims/quantization choice: storage, measured p50 query time, and the first stage's
    recall@k against exact search before rescoring."""

    dims: int
    quantize: str | None
    bytes_per_vector: int
    ms_p50: float
    recall_at_k: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure_costs(
    dense: DenseIndex, query_vector: np.ndarray, *, k: int = 10, repeats: int = 5
) -> list[CostRow]:
    """Time every dims x quantization choice on ``dense`` for one query (first call warms);
    each first stage keeps only ``k`` candidates, so the recall is its own."""
    exact = dense.exact(query_vector, k)
    dims_options = [dense.dims] + [d for d in DIMS_CHOICES if d < dense.dims]
    rows: list[CostRow] = []
    for d in dims_options:
        for q in QUANTIZE_CHOICES:
            dims = None if d == dense.dims else d
            dense.search(query_vector, k, dims=dims, quantize=q, candidates=k, exact=True)
            times = []  # the call above built the caches
            for _ in range(repeats):
                t = time.perf_counter()
                hits = dense.search(
                    query_vector, k, dims=dims, quantize=q, candidates=k, exact=True
                )
                times.append(time.perf_counter() - t)
            rows.append(
                CostRow(
                    dims=d,
                    quantize=q,
                    bytes_per_vector=first_stage_bytes(d, dense.dims, q),
                    ms_p50=float(np.median(times) * 1000),
                    recall_at_k=recall_at_k(hits.ids, exact.ids),
                )
            )
    return rows
