"""The cost calculator: storage, RAM and query latency of an index of N documents.

Sizes are computed (vectors only: texts, metadata and the BM25 index come on top). Latency
is measured here, on this machine: exact search (``DenseIndex``, one query at a time, FAISS on
one thread) over two samples of random unit vectors of the model's size, fitted as
``fixed + per_vector * n``, and extrapolated to N. The assumption, stated in every result:
a scan's cost grows linearly with the number of vectors, and does not depend on what the
vectors hold. Past :data:`embedlab.stores.dense.ANN_THRESHOLD` vectors the search layer
switches full-precision search to an IVF index, which is sublinear, so the figure is then an
upper bound.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from embedlab.errors import InputError
from embedlab.evaluate.timing import timed_calls
from embedlab.models.base import Encoder
from embedlab.stores.dense import ANN_THRESHOLD, DenseIndex
from embedlab.vectors import (
    first_stage_bytes,
    first_stage_precision,
    index_storage_bytes,
    normalize,
)

PRECISION = {
    None: "float32",
    "none": "float32",
    "float32": "float32",
    "int8": "int8",
    "binary": "binary",
}
SAMPLE = 20_000
QUERIES = 30


@dataclass(frozen=True)
class CostEstimate:
    """What an index of ``n_documents`` costs at one dims/precision choice."""

    n_documents: int
    model: str
    model_dims: int
    dims: int
    quantize: str
    rescore: bool
    bytes_per_vector: int
    storage_bytes: int
    ram_bytes: int
    search_ms: float
    measured_at: list[int]
    measured_ms: list[float]
    embed_query_ms: float | None
    embed_docs_per_s: float | None
    embed_all_s: float | None
    assumption: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _search_ms(
    n: int, model_dims: int, dims: int, quantize: str | None, rescore: bool, k: int
) -> float:
    """Median milliseconds of one query over ``n`` random unit vectors."""
    rng = np.random.default_rng(0)
    vectors = normalize(rng.standard_normal((n, model_dims)).astype(np.float32))
    queries = normalize(rng.standard_normal((QUERIES + 1, model_dims)).astype(np.float32))
    index = DenseIndex(vectors, ann_threshold=n + 1)
    d = dims if dims < model_dims else None
    cand = None if rescore else k

    def once(q: np.ndarray) -> None:
        index.search(q, k, dims=d, quantize=quantize, candidates=cand)

    _, ms = timed_calls(lambda i: once(queries[i]), len(queries), QUERIES + 1)
    return ms


def _embedding_speed(encoder: Encoder, texts: list[str] | None) -> tuple[float, float | None]:
    """Query latency (ms, one at a time on one thread) and documents per second on ``texts``."""
    probes = ["how do vaccines work", "best budget laptop 2024", "symptoms of iron deficiency"]
    _, ms = timed_calls(lambda i: encoder.embed(probes[i], role="query"), len(probes), len(probes))
    rate = None
    if texts:
        start = time.perf_counter()
        encoder.embed(texts, role="document")
        rate = len(texts) / (time.perf_counter() - start)
    return ms, rate


def estimate_cost(
    n_documents: int,
    *,
    model_dims: int,
    dims: int | None = None,
    quantize: str | None = None,
    model: str = "",
    encoder: Encoder | None = None,
    sample_texts: list[str] | None = None,
    rescore: bool = False,
    k: int = 10,
    sample: int = SAMPLE,
) -> CostEstimate:
    """Storage, RAM and measured-then-extrapolated query latency for ``n_documents``.

    :param model_dims: the model's full vector size (``encoder.info.dims``).
    :param dims: Matryoshka size kept (default: all).
    :param quantize: ``none``/``int8``/``binary``.
    :param encoder: when given, query embedding latency is measured too, and with
        ``sample_texts`` the documents per second and time to embed all N.
    :param rescore: keep the float vectors too, to rescore the first stage.
    :param sample: the largest number of vectors searched for the measurement.
    """
    if n_documents < 1:
        raise InputError(f"The number of documents must be at least 1, got {n_documents}.")
    if quantize not in PRECISION:
        raise InputError(f"Unknown quantization {quantize!r}: use none, int8 or binary.")
    d = dims or model_dims
    if not 1 <= d <= model_dims:
        raise InputError(f"dims must be between 1 and {model_dims}, got {d}.")
    precision = PRECISION[quantize]
    q = None if precision == "float32" else precision
    bpv = first_stage_bytes(d, model_dims, q)
    sizes = sorted({min(n_documents, max(1000, sample // 4)), min(n_documents, sample)})
    ms = [_search_ms(n, model_dims, d, q, rescore, k) for n in sizes]
    if len(sizes) == 1 or n_documents <= sizes[-1]:
        search_ms = ms[-1]
    else:
        per = max((ms[1] - ms[0]) / (sizes[1] - sizes[0]), 0.0)
        search_ms = ms[1] + per * (n_documents - sizes[1])
    query_ms, rate = (
        _embedding_speed(encoder, sample_texts) if encoder is not None else (None, None)
    )
    assumption = (
        f"Exact search measured on {' and '.join(f'{s:,}' for s in sizes)} random {model_dims}-d "
        f"unit vectors on this machine (one query at a time, median of {QUERIES}), fitted as "
        "fixed + per-vector cost and extrapolated linearly to N; vector storage only."
    )
    if n_documents >= ANN_THRESHOLD and q is None and d == model_dims:
        assumption += (
            f" From {ANN_THRESHOLD:,} vectors the search layer uses an IVF index: an upper bound."
        )
    return CostEstimate(
        n_documents=n_documents,
        model=model or (encoder.info.name if encoder else ""),
        model_dims=model_dims,
        dims=d,
        quantize=first_stage_precision(d, model_dims, q),
        rescore=rescore,
        bytes_per_vector=bpv,
        storage_bytes=index_storage_bytes(n_documents, d, model_dims, q, rescore=rescore),
        ram_bytes=n_documents * bpv,
        search_ms=search_ms,
        measured_at=sizes,
        measured_ms=ms,
        embed_query_ms=query_ms,
        embed_docs_per_s=rate,
        embed_all_s=n_documents / rate if rate else None,
        assumption=assumption,
    )


def cost_table(
    n_documents: int,
    model: str,
    dims: Sequence[int] | None = None,
    quantize: Sequence[str] = ("none", "int8", "binary"),
    *,
    rescore: bool = False,
    measure_model: bool = False,
) -> list[CostEstimate]:
    """One estimate per (dims, precision) for a model named in the catalogue (or loaded with
    ``measure_model``, which also measures query embedding)."""
    from embedlab.models import load_model
    from embedlab.models.registry import find_spec

    if n_documents < 1:  # every setting is checked before a model loads
        raise InputError(f"The number of documents must be at least 1, got {n_documents}.")
    bad = [q for q in quantize if q not in PRECISION]
    if bad:
        raise InputError(f"Unknown quantization {bad[0]!r}: use none, int8 or binary.")
    if dims and min(dims) < 1:
        raise InputError(f"dims must be at least 1, got {min(dims)}.")
    encoder = load_model(model) if measure_model else None
    spec = find_spec(model)
    if encoder is None and spec is None:
        encoder = load_model(model)  # a prefixed id: its size is only known once loaded
    full = encoder.info.dims if encoder is not None else spec.dims  # type: ignore[union-attr]
    name = encoder.info.name if encoder is not None else spec.name  # type: ignore[union-attr]
    sizes = [d for d in (dims or [full]) if 0 < d <= full]
    if not sizes or not quantize:
        raise InputError(f"Nothing to estimate: give dims between 1 and {full} and a precision.")
    return [
        estimate_cost(
            n_documents,
            model_dims=full,
            dims=d,
            quantize=q,
            model=name,
            encoder=encoder,
            rescore=rescore,
        )
        for d in sizes
        for q in quantize
    ]


__all__ = ["CostEstimate", "cost_table", "estimate_cost"]
