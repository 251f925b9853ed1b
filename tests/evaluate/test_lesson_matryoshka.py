"""The Matryoshka lesson (issue 15): every number recomputed here. nDCG@10 at each size with
pytrec_eval (trec_eval) on a numpy-truncated run of MiniLM's vectors, bytes and storage by
hand, the cost calculator fed the same numbers, and the page's slider in Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import pytrec_eval

from embedlab.evaluate.cache import embed_cached
from embedlab.evaluate.collections import collections_dir
from embedlab.evaluate.make import make_news_dataset
from embedlab.evaluate.matryoshka import truncation_training
from embedlab.models import Encoder
from embedlab.models.base import ModelInfo
from embedlab.server.app import create_app
from tests.conftest import run_async

from .conftest import CHARS, N_ARTICLES

NEWS = "news-matryoshka"
N = 2_500_000


def _post(path: str, body: dict[str, Any]) -> httpx.Response:
    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", timeout=300
        ) as c:
            return await c.post(path, json=body)

    return run_async(main)


@pytest.fixture(scope="module")
def collection(news_run: Any) -> str:
    """The evaluation tests' news set as a named collection (its vectors already cached)."""
    make_news_dataset(collections_dir() / NEWS, limit=N_ARTICLES, chars=CHARS)
    return NEWS


@pytest.fixture(scope="module")
def curve(collection: str) -> dict[str, Any]:
    r = _post("/lab/matryoshka", {"dataset": collection, "model": "minilm", "n": N})
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture(scope="module")
def vectors(news_run: Any, minilm: Encoder) -> tuple[np.ndarray, np.ndarray]:
    """MiniLM's full query and document vectors (the embedding cache news_run filled)."""
    q = embed_cached(minilm, news_run.titles, "query").vectors
    d = embed_cached(minilm, news_run.bodies, "document").vectors
    return q.astype(np.float64), d.astype(np.float64)


def _trec_ndcg(news_run: Any, vectors: tuple[np.ndarray, np.ndarray], dims: int) -> float:
    """Mean nDCG@10 by trec_eval of exact search on the first ``dims`` components."""
    q, d = vectors[0][:, :dims].copy(), vectors[1][:, :dims].copy()
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    scores = q @ d.T
    run = {
        qid: {news_run.doc_ids[j]: float(scores[i, j]) for j in np.argsort(-scores[i])[:10]}
        for i, qid in enumerate(news_run.qids)
    }
    qrels = {qid: news_run.dataset.qrels[qid] for qid in news_run.qids}
    ev = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10"})
    return float(np.mean([m["ndcg_cut_10"] for m in ev.evaluate(run).values()]))


def test_quality_bytes_and_storage(
    curve: dict[str, Any], news_run: Any, vectors: tuple[np.ndarray, np.ndarray]
) -> None:
    pts = {p["dims"]: p for p in curve["points"]}
    assert curve["model_dims"] == 384 and max(pts) == 384 and min(pts) == 8
    assert curve["documents"] == N_ARTICLES and curve["queries"] == len(news_run.qids)
    full = _trec_ndcg(news_run, vectors, 384)
    for dims in (32, 128, 384):
        want = _trec_ndcg(news_run, vectors, dims)
        assert pts[dims]["ndcg"] == pytest.approx(want, abs=2e-3)
        assert pts[dims]["retained"] == pytest.approx(want / full, abs=3e-3)
    assert pts[384]["retained"] == 1.0 and pts[384]["overlap"] == 1.0
    assert pts[8]["retained"] < pts[128]["retained"] <= 1.01  # a cut loses quality
    for dims, p in pts.items():
        per = 4 * 384 if dims == 384 else 2 * dims  # float32 at full size, bfloat16 prefix
        assert p["bytes_per_vector"] == per and p["storage_bytes"] == N * per
        assert p["search_ms"] > 0
    assert not curve["trained_for_truncation"]
    assert "not trained for truncation" in curve["training_note"]


def test_the_cost_calculator_gets_the_same_numbers(curve: dict[str, Any]) -> None:
    for p in curve["points"]:
        if p["dims"] not in (64, 384):
            continue
        r = _post(
            "/lab/evaluate/cost",
            {"n": N, "model": "minilm", "dims": [p["dims"]], "quantize": ["none"]},
        )
        assert r.status_code == 200, r.text
        row = r.json()["rows"][0]
        assert row["bytes_per_vector"] == p["bytes_per_vector"]
        assert row["storage_bytes"] == p["storage_bytes"]
        assert row["quantize"] == p["precision"]


def test_truncation_training_is_read_from_the_run_record(tmp_path: Path) -> None:
    folder = tmp_path / "mrl"
    folder.mkdir()
    (folder / "train.json").write_text(json.dumps({"config": {"matryoshka": [64, 256, 128]}}))
    trained, note = truncation_training(ModelInfo(f"st:{folder}", 384, 256, True))
    assert trained and "256, 128, 64" in note
    trained, note = truncation_training(ModelInfo("minilm", 384, 256, True))
    assert not trained and "not trained for truncation" in note


def test_refusals(collection: str) -> None:
    r = _post("/lab/matryoshka", {"dataset": collection, "model": "minilm", "dims": [500]})
    assert r.status_code == 400 and "outside 1..384" in r.json()["error"]["message"]
    r = _post("/lab/matryoshka", {"dataset": "../etc", "model": "minilm"})
    assert r.status_code == 403
    r = _post("/lab/matryoshka", {"dataset": "no-such-set", "model": "minilm"})
    assert r.status_code == 400 and "No test collection" in r.json()["error"]["message"]


@pytest.mark.browser
def test_matryoshka_page(page: Any, live_server: str, curve: dict[str, Any]) -> None:
    page.goto(f"{live_server}/static/matryoshka.html")
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    page.select_option("#m-dataset", NEWS)
    page.select_option("#m-model", "minilm")
    page.fill("#m-n", str(N))
    page.click("#m-run")
    page.wait_for_selector("#m-out:not([hidden])", timeout=120_000)
    assert "not trained for truncation" in page.inner_text("#m-training")
    pts = curve["points"]
    for i in (0, 5, len(pts) - 1):  # the slider updates every readout
        page.fill("#m-dims", str(i))
        page.dispatch_event("#m-dims", "input")
        p = pts[i]
        assert page.inner_text("#m-d") == str(p["dims"])
        assert float(page.get_attribute("#m-ndcg", "data-value")) == pytest.approx(
            p["ndcg"], abs=1e-9
        )
        assert page.inner_text("#m-ndcg") == f"{p['ndcg']:.4f}"
        assert page.inner_text("#m-retained") == f"{100 * p['retained']:.1f} %"
        assert int(page.get_attribute("#m-bpv", "data-value")) == p["bytes_per_vector"]
        assert int(page.get_attribute("#m-storage", "data-value")) == N * p["bytes_per_vector"]
        assert float(page.get_attribute("#m-search", "data-value")) > 0
    page.fill("#m-dims", "4")
    page.dispatch_event("#m-dims", "input")
    page.click("#m-cost")
    page.wait_for_selector("#m-cost-table:not([hidden])", timeout=60_000)
    assert int(page.get_attribute("#mc-dims", "data-value")) == pts[4]["dims"]
    assert int(page.get_attribute("#mc-bpv", "data-value")) == pts[4]["bytes_per_vector"]
    assert int(page.get_attribute("#mc-storage", "data-value")) == pts[4]["storage_bytes"]
