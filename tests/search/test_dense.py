"""Dense stages against numpy brute force: exact, FAISS ANN, Matryoshka, int8 and binary."""

from __future__ import annotations

from typing import Any

import faiss  # noqa: F401  (required dependencies: a missing one fails here, never skips)
import numba  # noqa: F401
import numpy as np
import pytest

from embedlab.errors import DimensionMismatchError, InputError
from embedlab.stores.dense import DenseIndex
from embedlab.stores.ivf import recall_at_k
from embedlab.stores.quantized import from_bfloat16


def _brute(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    s = q.astype(np.float64) @ v.T.astype(np.float64)
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


def test_exact_equals_brute_force() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2000, 64)).astype(np.float32)
    q = rng.standard_normal((20, 64)).astype(np.float32)
    hits = DenseIndex(x).exact(q, 10)
    assert hits.ids.tolist() == _brute(x, q, 10).tolist()
    v = x / np.linalg.norm(x, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    np.testing.assert_allclose(hits.scores, np.take_along_axis(qn @ v.T, hits.ids, 1), atol=1e-5)


def test_faiss_ann_recall_on_5k_random() -> None:
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((50, 96))
    x = (centres[rng.integers(0, 50, 5000)] + 0.6 * rng.standard_normal((5000, 96))).astype(
        np.float32
    )
    q = x[:100] + 0.3 * rng.standard_normal((100, 96)).astype(np.float32)
    index = DenseIndex(x, ann_threshold=1000)
    hits = index.search(q, 10)
    assert hits.method == "ann"
    assert recall_at_k(hits.ids, _brute(x, q, 10)) >= 0.95
    assert index.ann_index().nprobe < index.ann_index().nlist  # it really is approximate


@pytest.mark.parametrize(
    "options", [{"dims": 128}, {"dims": 64}, {"quantize": "int8"}, {"quantize": "binary"}]
)
def test_cheap_first_stages_keep_exact_top1(news: Any, options: dict[str, object]) -> None:
    index = DenseIndex(news.index.vectors())
    exact = index.exact(news.query_vectors, 10)
    staged = index.search(news.query_vectors, 10, **options)  # type: ignore[arg-type]
    assert staged.ids[:, 0].tolist() == exact.ids[:, 0].tolist()
    assert recall_at_k(staged.ids, exact.ids) >= 0.95
    assert staged.first_stage is not None and staged.first_rank is not None
    np.testing.assert_allclose(staged.scores[:, 0], exact.scores[:, 0], atol=1e-5)
    q = news.query_vectors / np.linalg.norm(news.query_vectors, axis=1, keepdims=True)
    full = np.take_along_axis(q @ index.vectors.T, staged.ids, axis=1)
    np.testing.assert_allclose(staged.scores, full, atol=1e-5)  # rescored with full floats


def test_int8_first_stage_matches_dequantized_dot(news: Any) -> None:
    from embedlab.vectors import Int8Calibration, from_int8, to_int8

    index = DenseIndex(news.index.vectors())
    hits = index.search(news.query_vectors[:5], 5, quantize="int8", candidates=150)
    cal = Int8Calibration.fit(index.vectors)
    deq = from_int8(to_int8(index.vectors, cal), cal)
    q = news.query_vectors[:5] / np.linalg.norm(news.query_vectors[:5], axis=1, keepdims=True)
    expected = np.take_along_axis(q @ deq.T, hits.ids, axis=1)
    np.testing.assert_allclose(hits.first_stage, expected, atol=1e-4)


def test_bad_queries() -> None:
    index = DenseIndex(np.eye(8, dtype=np.float32))
    with pytest.raises(DimensionMismatchError):
        index.search(np.ones(4, dtype=np.float32))
    with pytest.raises(InputError):
        index.search(np.ones(8, dtype=np.float32), dims=9)
    with pytest.raises(InputError):
        index.search(np.ones(8, dtype=np.float32), quantize="int4")


def test_ann_saved_and_reopened(tmp_path: Any) -> None:
    rng = np.random.default_rng(2)
    centres = rng.standard_normal((20, 32))
    x = (centres[rng.integers(0, 20, 3000)] + 0.5 * rng.standard_normal((3000, 32))).astype(
        np.float32
    )
    first = DenseIndex(x, ann_threshold=1000)
    first.save_ann(tmp_path / "ann" / "gen-1.faiss")
    again = DenseIndex(x, ann_threshold=1000)
    assert again.load_ann(tmp_path / "ann" / "gen-1.faiss")
    assert again.ann_index().nprobe == first.ann_index().nprobe
    assert again.search(x[:20], 5).ids.tolist() == first.search(x[:20], 5).ids.tolist()
    assert not DenseIndex(x[:2000]).load_ann(tmp_path / "ann" / "gen-1.faiss")  # wrong size


def test_half_precision_matryoshka_stage_returns_exact_top10() -> None:
    """The bfloat16 128-d first stage + float32 rescoring gives exact search's top-10 on
    clustered vectors whose spread decays along the dimensions (as in benchmarks/search.py)."""
    rng = np.random.default_rng(3)
    scale = (1.0 / np.sqrt(1.0 + np.arange(384) / 48.0)).astype(np.float32)
    centres = rng.standard_normal((200, 384)).astype(np.float32) * scale

    def draw(m: int) -> np.ndarray:
        noise = rng.standard_normal((m, 384)).astype(np.float32) * scale * 0.6
        return (centres[rng.integers(0, 200, m)] + noise).astype(np.float32)

    x, q = draw(20_000), draw(50)
    index = DenseIndex(x)
    staged = index.search(q, 10, dims=128)
    half = index._cache["bf16-128"]  # the half-precision stage ran: bfloat16 bit patterns
    assert half.dtype == np.uint16 and half.shape == (20_000, 128)
    np.testing.assert_allclose(from_bfloat16(half), index._truncated(128), rtol=2**-8)
    exact = index.exact(q, 10)
    assert staged.ids.tolist() == exact.ids.tolist()
    np.testing.assert_allclose(staged.scores, exact.scores, atol=1e-5)
    # first-stage scores are bfloat16 cosines on the 128-d prefix: close to float32, not equal
    trunc = index._truncated(128)
    qn = q[:, :128] / np.linalg.norm(q[:, :128], axis=1, keepdims=True)
    f32 = np.take_along_axis(qn @ trunc.T, staged.ids, axis=1)
    np.testing.assert_allclose(staged.first_stage, f32, atol=2e-2)
    # the storage the lab reports is what this stage scans: 2 bytes a dimension, not 4
    assert half.nbytes // len(x) == index.bytes_per_vector(128) == 256
    assert index.bytes_per_vector() == 4 * 384 and index.bytes_per_vector(128, "int8") == 128


def test_paged_exact_top_k_equals_the_whole_score_matrix() -> None:
    """``exact_top_k`` (the IVF tuning's ground truth, a page of rows at a time) gives the
    same rows as a top-k over the whole score matrix, also over mapped segments."""
    from embedlab.stores.ivf import exact_top_k
    from embedlab.stores.segment_rows import SegmentRows

    rng = np.random.default_rng(3)
    x = rng.standard_normal((1000, 16)).astype(np.float32)
    q = rng.standard_normal((7, 16)).astype(np.float32)
    want = np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :10]
    assert exact_top_k(x, q, 10, page=97).tolist() == want.tolist()
    halves = SegmentRows([x[500:], x[:500]], np.repeat([1, 0], 500), np.tile(np.arange(500), 2))
    assert exact_top_k(halves, q, 10, page=128).tolist() == want.tolist()
