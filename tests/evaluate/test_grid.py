"""The retrieval grid on real news articles with MiniLM: plumbing, caching, bad grids."""

from __future__ import annotations

import numpy as np
import pytest
import pytrec_eval

from embedlab.errors import InputError
from embedlab.evaluate.cache import cache_path
from embedlab.evaluate.grid import expand_grid, run_grid
from embedlab.evaluate.metrics import evaluate_run
from embedlab.stores.keyword import BM25Index


@pytest.fixture(scope="module")
def grid(news_run, minilm):
    return run_grid(
        news_run.dataset,
        [minilm],
        ["dense", "bm25", "hybrid"],
        [384, 64],
        ["none", "binary"],
        k=10,
        latency_sample=3,
    )


def by_label(grid):
    return {r.config.label: r for r in grid.results}


def test_grid_shape_and_sizes(grid) -> None:
    labels = list(by_label(grid))
    assert labels[0] == "bm25" and len(labels) == 1 + 2 * 2 * 2
    rows = {r["config"]: r for r in grid.rows()}
    assert rows["minilm dense 384d float32"]["bytes_per_vector"] == 1536
    assert rows["minilm dense 64d binary"]["bytes_per_vector"] == 8
    assert rows["minilm dense 64d binary"]["index_mb"] == pytest.approx(150 * 8 / 1e6)
    assert all(r["search_ms"] > 0 for r in rows.values())
    assert rows["bm25"]["embed_ms"] is None and rows["minilm dense 384d float32"]["embed_ms"] > 0


def test_full_precision_dense_equals_direct_cosine_run(grid, news_run) -> None:
    """The grid's dense 384d run scores the same as ranking the cosine matrix directly."""
    run = {}
    for i, qid in enumerate(news_run.qids):
        top = np.argsort(-news_run.scores[i], kind="stable")[:10]
        run[qid] = {news_run.doc_ids[j]: float(10 - r) for r, j in enumerate(top)}
    direct = evaluate_run(news_run.dataset.qrels, run, grid.ks)
    ours = by_label(grid)["minilm dense 384d float32"].metrics
    for name in direct.names:
        assert ours.mean[name] == pytest.approx(direct.mean[name], abs=1e-9), name


def test_bm25_row_equals_bm25_index(grid, news_run) -> None:
    index = BM25Index(news_run.bodies)
    ranked = by_label(grid)["bm25"].ranked
    for qid, title in list(zip(news_run.qids, news_run.titles, strict=True))[:20]:
        assert ranked[qid] == [news_run.doc_ids[i] for i in index.search(title, 10).ids]


def test_quality_falls_with_smaller_codes(grid) -> None:
    res = by_label(grid)
    full = res["minilm dense 384d float32"].metrics.mean["nDCG@10"]
    tiny = res["minilm dense 64d binary"].metrics.mean["nDCG@10"]
    assert full > 0.85 and tiny < full
    assert res["minilm hybrid 64d binary"].metrics.mean["nDCG@10"] > tiny  # BM25 helps


def test_embeddings_are_cached(grid, news_run, minilm) -> None:
    assert cache_path(minilm, news_run.bodies, "document").exists()
    again = run_grid(news_run.dataset, [minilm], ["dense"], [384], ["none"], k=5, latency_sample=3)
    assert again.embedding["minilm"]["cached"] is True
    # the cached run's MRR is trec_eval's recip_rank of its own ranking (to 1e-6) ...
    result = again.results[0]
    run = {q: {d: float(5 - r) for r, d in enumerate(docs)} for q, docs in result.ranked.items()}
    qrels = {q: dict(j) for q, j in news_run.dataset.qrels.items()}
    trec = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(run)
    assert set(trec) == set(qrels)  # every judged query was ranked
    expected = sum(v["recip_rank"] for v in trec.values()) / len(qrels)
    assert result.metrics.mean["MRR"] == pytest.approx(expected, abs=1e-6)
    # ... and the same as the first run's, which embedded the texts (same vectors, same ranks)
    first = by_label(grid)["minilm dense 384d float32"]
    assert result.metrics.mean["MRR"] == pytest.approx(first.metrics.mean["MRR"], abs=1e-6)
    assert all(result.ranked[q] == first.ranked[q][:5] for q in result.ranked)


def test_bad_grids(news_run, minilm) -> None:
    with pytest.raises(InputError, match="grid is empty"):
        expand_grid([], ["dense"])
    with pytest.raises(InputError, match="Unknown mode 'sparse'"):
        expand_grid([("m", 8)], ["sparse"])
    with pytest.raises(InputError, match="Unknown quantization 'int4'"):
        expand_grid([("m", 8)], ["dense"], quantize=["int4"])
    with pytest.raises(InputError, match="--reranker"):
        run_grid(news_run.dataset, [minilm], ["rerank"], k=5)
    assert [c.dims for c in expand_grid([("m", 64)], ["dense"], [384, 64, 32])] == [64, 32]


class OverlapReranker:
    """A stand-in cross-encoder (no bundled one exists): scores by words shared with the
    query, so the expected order can be computed by hand."""

    name = "overlap"

    def score(self, query: str, passages: list[str]) -> np.ndarray:
        q = set(query.lower().split())
        return np.array([len(q & set(p.lower().split())) for p in passages], dtype=np.float32)


def test_rerank_mode_reorders_dense_candidates(news_run, minilm, grid) -> None:
    res = run_grid(
        news_run.dataset,
        [minilm],
        ["rerank"],
        [384],
        ["none"],
        k=10,
        reranker=OverlapReranker(),
        latency_sample=3,
    )
    ranked = res.results[0].ranked
    dense = by_label(grid)["minilm dense 384d float32"]
    moved = 0
    for i, (qid, title) in enumerate(list(zip(news_run.qids, news_run.titles, strict=True))[:20]):
        top50 = np.argsort(-news_run.scores[i], kind="stable")[:50]
        scores = OverlapReranker().score(title, [news_run.bodies[j] for j in top50])
        order = np.lexsort((np.arange(50), -scores))[:10]
        assert ranked[qid] == [news_run.doc_ids[top50[j]] for j in order], qid
        moved += ranked[qid] != dense.ranked[qid]
    assert res.results[0].config.label == "minilm rerank 384d float32"
    assert moved >= 10  # the reranker reorders most queries' dense top 10
