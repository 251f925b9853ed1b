"""The grid measures what ``embedlab search`` returns: every mode and option run through
:func:`run_grid` and through :func:`search` on the same index and queries gives identical
rankings and scores.

"The same index": a :class:`MemoryIndex` over the grid's documents holding the vectors the
grid reads from its embedding cache, and the query vectors the grid reads too (passed to
``search`` as ``query_vector``). Both sides run on one thread (the grid times its queries
that way), so the BLAS and torch reductions are the same.

Like with like: ``search`` rescores a Matryoshka/quantized first stage with the float
vectors; the grid does that with ``rescore=True`` and is compared with ``search``'s default.
The grid's default (``rescore=False``, the first stage's own ranking) is compared with
``search(..., rescore=False)``. The grid's ``rerank`` mode is ``search(mode="dense",
rerank=..., rerank_candidates=max(k, 50))``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from embedlab.evaluate.cache import embed_cached
from embedlab.evaluate.datasets import RetrievalDataset
from embedlab.evaluate.grid import GridResult, run_grid
from embedlab.evaluate.timing import one_thread
from embedlab.search.memory import MemoryIndex
from embedlab.search.pipeline import search
from embedlab.stores.base import Chunk

K = 10
N_QUERIES = 40  # of the 150 titles: enough ties and misses, a few seconds per grid


def _subset(ds: RetrievalDataset, n: int) -> RetrievalDataset:
    qids = list(ds.judged_queries)[:n]
    return RetrievalDataset(
        ds.name, ds.corpus, {q: ds.queries[q] for q in qids}, {q: ds.qrels[q] for q in qids}
    )


@pytest.fixture(scope="module")
def setup(news_run: Any, minilm: Any) -> tuple[RetrievalDataset, MemoryIndex, np.ndarray]:
    ds = _subset(news_run.dataset, N_QUERIES)
    texts = ds.doc_texts()
    docs = embed_cached(minilm, texts, "document").vectors  # what the grid reads
    queries = embed_cached(minilm, list(ds.judged_queries.values()), "query").vectors
    chunks = [
        Chunk(id=i, doc_id=i, text=t, source=f"news:{i}", position={"record": i})
        for i, t in enumerate(texts)
    ]
    return ds, MemoryIndex("grid-news", chunks, docs, minilm.info.to_dict()), queries


def _through_search(
    index: MemoryIndex, ds: RetrievalDataset, qv: np.ndarray, minilm: Any, **options: Any
) -> tuple[dict[str, list[str]], dict[str, list[float]]]:
    ranked, scores = {}, {}
    with one_thread():
        for i, (qid, text) in enumerate(ds.judged_queries.items()):
            result = search(index, text, encoder=minilm, query_vector=qv[i], k=K, **options)
            ranked[qid] = [ds.doc_ids[h.chunk.id] for h in result.hits]
            scores[qid] = [h.score for h in result.hits]
    return ranked, scores


def _search_options(row: Any, rescore: bool, reranker: Any = None) -> dict[str, Any]:
    c = row.config
    if c.mode == "bm25":
        return {"mode": "bm25"}
    out: dict[str, Any] = {"dims": c.dims, "quantize": c.quantize, "rescore": rescore}
    if c.mode == "rerank":
        return {**out, "mode": "dense", "rerank": reranker, "rerank_candidates": max(K, 50)}
    return {**out, "mode": c.mode}


def _assert_equal(
    grid: GridResult, index: MemoryIndex, ds: RetrievalDataset, qv: np.ndarray, minilm: Any,
    rescore: bool, reranker: Any = None,
) -> None:  # fmt: skip
    for row in grid.results:
        ranked, scores = _through_search(
            index, ds, qv, minilm, **_search_options(row, rescore, reranker)
        )
        assert ranked == row.ranked, row.config.label
        assert scores == row.scores, row.config.label  # exactly: one path, one arithmetic
        full = row.config.mode != "bm25"  # BM25 leaves out documents sharing no word
        assert all(len(v) == K or not full and v for v in ranked.values()), row.config.label


@pytest.mark.parametrize("rescore", [True, False], ids=["rescored", "first-stage"])
def test_every_mode_and_option_ranks_as_search_does(setup: Any, minilm: Any, rescore: bool) -> None:
    ds, index, qv = setup
    grid = run_grid(
        ds, [minilm], ["dense", "bm25", "hybrid"], [384, 64], ["none", "int8", "binary"],
        k=K, rescore=rescore, latency_sample=2,
    )  # fmt: skip
    assert len(grid.results) == 1 + 2 * 2 * 3
    _assert_equal(grid, index, ds, qv, minilm, rescore)
    # the options really change the ranking (not one ranking compared 13 times); rescored,
    # the 100+ candidates of 150 documents hold the exact top 10, so only the modes differ
    orders = {str(r.ranked) for r in grid.results}
    assert len(orders) >= (3 if rescore else 8)


def test_rerank_mode_ranks_as_search_does(setup: Any, minilm: Any) -> None:
    """A real cross-encoder (MiniLM weights, a seeded untrained head: plumbing, not quality)."""
    import torch
    from sentence_transformers import CrossEncoder

    from embedlab.models.paths import minilm_folder

    ds, index, _ = setup
    small = _subset(ds, 3)
    torch.manual_seed(0)
    scorer = CrossEncoder(str(minilm_folder()), num_labels=1, max_length=48, device="cpu")
    grid = run_grid(
        small, [minilm], ["rerank"], [64], ["binary"], k=K, reranker=scorer, rescore=True,
        latency_sample=1,
    )  # fmt: skip
    sq = embed_cached(minilm, list(small.judged_queries.values()), "query").vectors
    _assert_equal(grid, index, small, sq, minilm, True, scorer)
    dense, _ = _through_search(index, small, sq, minilm, mode="dense", dims=64, quantize="binary")
    assert grid.results[0].ranked != dense  # the reranker reordered something
