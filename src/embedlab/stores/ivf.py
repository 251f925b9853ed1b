"""The FAISS IVF index behind :class:`embedlab.stores.dense.DenseIndex`'s ANN search (and
the files :mod:`embedlab.stores.ann` keeps): a FAISS ``IndexIVFFlat`` (inner product on unit
vectors = cosine). ``nprobe`` is tuned when the index is built so that recall@10 against
exact search (:func:`exact_top_k`, :func:`recall_at_k`) on a sample of perturbed stored
vectors is at least :data:`ANN_TARGET_RECALL`.

IVF rather than HNSW: on 100,000 x 384 it builds in ~5 s where HNSW (M=32) took ~80 s on
the same 2 cores, and its recall is tuned with one number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedlab.stores.segment_rows import take_rows
from embedlab.vectors import normalize, top_k_rows

#: recall@10 against exact search that ``nprobe`` is tuned to reach.
ANN_TARGET_RECALL = 0.96


def build_ivf(
    vectors: Any, target_recall: float = ANN_TARGET_RECALL, ids: np.ndarray | None = None
) -> Any:
    """A FAISS ``IndexIVFFlat`` (inner product) with ``nprobe`` tuned to ``target_recall``.

    ``vectors`` (an array or :class:`SegmentRows`) are added page by page, labelled by
    ``ids`` when given (``add_with_ids``: the index can later be updated by id) or by row
    position; no whole copy is made beyond the one FAISS keeps in its lists.
    """
    index = train_ivf(vectors)
    add_pages(index, vectors, ids)
    index.nprobe = tune_nprobe(index, vectors, target_recall, ids=ids)
    return index


def ivf_lists(n: int) -> int:
    """How many inverted lists an IVF over ``n`` rows gets: ``4 sqrt(n)`` (FAISS'
    guideline, 4 to 16 sqrt(n)), at most ``n / 39`` (FAISS wants 39 training points a
    list).

    Fewer lists make the build cheaper but, on clustered data, cost far more at query
    time: on ``benchmarks/store.py``'s 100,000 rows (2,000 clusters), 1,264 lists need
    nprobe 1 for recall 0.96 (0.050 ms a query), 632 need 16 (0.197 ms), 316 need 64
    (0.865 ms).
    """
    return int(max(1, min(4 * np.sqrt(n), n // 39)))


#: k-means passes when training the IVF: FAISS' default is 25; 10 leave the tuned nprobe
#: where it was (1 at 100,000 rows, recall 0.96) and cut the training 2.5x where the
#: passes dominate (at 5M x 384, 8,944 lists over 357,760 samples: 29 s a pass on 2 cores).
IVF_TRAIN_PASSES = 10


def train_ivf(vectors: Any) -> Any:
    """An empty ``IndexIVFFlat`` (:func:`ivf_lists` lists) trained on a sample of
    ``vectors`` (40 rows a list, :data:`IVF_TRAIN_PASSES` k-means passes)."""
    import faiss

    n, d = vectors.shape
    nlist = ivf_lists(n)
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(n, size=min(n, 40 * nlist), replace=False))
    index.cp.min_points_per_centroid = 1
    index.cp.niter = IVF_TRAIN_PASSES
    index.train(np.ascontiguousarray(take_rows(vectors, sample)))
    return index


def add_pages(index: Any, vectors: Any, ids: np.ndarray | None, page: int = 65536) -> None:
    """``index.add`` (or ``add_with_ids`` with ``ids``) in pages of ``page`` rows."""
    n = vectors.shape[0]
    for start in range(0, n, page):
        stop = min(start + page, n)
        block = np.ascontiguousarray(take_rows(vectors, np.arange(start, stop)))
        if ids is None:
            index.add(block)
        else:
            index.add_with_ids(block, np.ascontiguousarray(ids[start:stop], dtype=np.int64))


def tune_nprobe(
    index: Any,
    vectors: Any,
    target_recall: float,
    n_queries: int = 200,
    ids: np.ndarray | None = None,
) -> int:
    """The smallest power-of-two ``nprobe`` whose recall@10 reaches ``target_recall``.

    Queries are stored vectors with Gaussian noise (so they are not their own top-1 only).
    """
    n, d = vectors.shape
    rng = np.random.default_rng(1)
    sample = take_rows(vectors, rng.choice(n, size=min(n, n_queries), replace=False))
    noise = rng.standard_normal(sample.shape).astype(np.float32) * (0.5 / np.sqrt(d))
    queries = normalize(sample + noise)
    k = min(10, n)
    truth = exact_top_k(vectors, queries, k)
    if ids is not None:  # the index holds these labels: compare labels with labels
        truth = ids[truth]
    nprobe = 1
    while nprobe < index.nlist:
        index.nprobe = nprobe
        _, ids = index.search(queries, k)
        if recall_at_k(ids, truth) >= target_recall:
            return nprobe
        nprobe *= 2
    return int(index.nlist)


def exact_top_k(vectors: Any, queries: np.ndarray, k: int, page: int = 65536) -> np.ndarray:
    """Row positions of the ``k`` best rows for each query by exact inner product, scanned
    ``page`` rows at a time (the score matrix of many queries against every row is never
    held: 200 queries x 5M rows would be 4 GB)."""
    n = vectors.shape[0]
    best_ids = np.empty((len(queries), 0), dtype=np.int64)
    best = np.empty((len(queries), 0), dtype=np.float32)
    for start in range(0, n, page):
        stop = min(start + page, n)
        block = take_rows(vectors, np.arange(start, stop))
        ids, scores = top_k_rows(queries @ block.T, k)
        best_ids = np.hstack([best_ids, ids + start])
        best = np.hstack([best, scores])
        order, best = top_k_rows(best, k)
        best_ids = np.take_along_axis(best_ids, order, axis=1)
    return best_ids


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each row of ``truth`` that appears in the same row of ``found``."""
    hits = [
        len(set(f.tolist()) & set(t.tolist())) / max(len(t), 1)
        for f, t in zip(found, truth, strict=True)
    ]
    return float(np.mean(hits)) if hits else 0.0
