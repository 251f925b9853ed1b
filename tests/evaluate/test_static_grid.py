"""The evaluation grid treats minilm-static like any model: beside its teacher on the same
news collection, with its own bytes per vector, embedding cache and metrics."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.evaluate.grid import run_grid
from embedlab.evaluate.metrics import evaluate_run
from embedlab.models import Encoder


def test_grid_runs_minilm_static_beside_minilm(
    news_run, minilm: Encoder, minilm_static: Encoder
) -> None:  # noqa: ANN001
    grid = run_grid(
        news_run.dataset, ["minilm-static", "minilm"], ["dense"], k=10, latency_sample=3
    )
    rows = {r["config"]: r for r in grid.rows()}
    dims = minilm_static.info.dims
    static_row = rows[f"minilm-static dense {dims}d float32"]
    assert static_row["bytes_per_vector"] == 4 * dims
    assert rows["minilm dense 384d float32"]["bytes_per_vector"] == 1536
    assert static_row["embed_ms"] > 0 and static_row["search_ms"] > 0
    assert set(grid.embedding) == {"minilm-static", "minilm"}
    # its metrics are those of ranking its own cosine matrix directly
    q = minilm_static.embed(news_run.titles, "query")
    d = minilm_static.embed(news_run.bodies, "document")
    scores = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (
        d / np.linalg.norm(d, axis=1, keepdims=True)
    ).T
    run = {}
    for i, qid in enumerate(news_run.qids):
        top = np.argsort(-scores[i], kind="stable")[:10]
        run[qid] = {news_run.doc_ids[j]: float(10 - r) for r, j in enumerate(top)}
    direct = evaluate_run(news_run.dataset.qrels, run, grid.ks)
    ours = next(r for r in grid.results if r.config.model == "minilm-static").metrics
    assert ours.mean["nDCG@10"] == pytest.approx(direct.mean["nDCG@10"], abs=1e-9)
    assert 0 < ours.mean["nDCG@10"] < 1
