"""The Search page's numbers through the real app (httpx ASGI transport) over a real index:
timings include what they name (issue 15 #8); the storage/latency panel measures each first
stage's own recall before rescoring and says when the index is too small (#5)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

INDEX = "search-lab-panel"


@pytest.fixture(scope="module")
def panel_index(news: Any, minilm: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from embedlab.stores import create_index, drop_index

    src = tmp_path_factory.mktemp("panel-src") / "news.jsonl"
    with open(src, "w") as f:
        for i in range(40):
            f.write(json.dumps({"title": news.titles[i], "text": news.texts[i]}) + "\n")
    create_index(INDEX, [src], minilm)
    yield INDEX
    drop_index(INDEX)


def _post(path: str, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """POST through the real app in a thread of its own; the reply and its wall seconds."""
    import httpx

    from embedlab.server.app import create_app

    async def go() -> tuple[dict[str, Any], float]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            t = time.perf_counter()
            r = await c.post(path, json=body)
            wall = time.perf_counter() - t
            assert r.status_code == 200, r.text
            return r.json(), wall

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def test_search_timings_include_what_they_name(panel_index: str) -> None:
    body = {"index": panel_index, "query": "a query never embedded before", "k": 5}
    data, wall = _post("/lab/search", body)
    timings = data["result"]["timings"]
    # embedding one query with MiniLM on a CPU takes milliseconds, never 0.0
    assert timings["embed"] >= 1e-3, timings
    parts = sum(v for name, v in timings.items() if name != "total")
    assert parts <= timings["total"] + 1e-6  # the total holds every part shown
    assert timings["total"] <= wall  # and no more than the request took
    assert {"open", "model", "embed"} <= set(timings)


def test_search_says_when_the_query_was_truncated(panel_index: str, minilm: Any) -> None:
    long = "what the lazy dog did " * 1000
    data, _ = _post("/lab/search", {"index": panel_index, "query": long, "k": 3})
    tokens = minilm.count_tokens([long], "query")[0]
    assert [n["tokens"] for n in data["truncated"]] == [tokens] and tokens > 256
    data, _ = _post("/lab/search", {"index": panel_index, "query": "a short query", "k": 3})
    assert data["truncated"] == []


def test_cost_panel_recall_is_the_first_stage_before_rescoring(
    panel_index: str, minilm: Any
) -> None:
    import numpy as np

    from embedlab.stores import open_index
    from embedlab.stores.cache import cached_dense

    query, k = "football results from the weekend", 5
    data, _ = _post("/lab/search/costs", {"index": panel_index, "query": query, "k": k})
    index = open_index(panel_index)
    vectors = cached_dense(index, index.generation).vectors.astype(np.float64)
    q = minilm.embed(query, role="query")[0].astype(np.float64)
    truth = set(np.argsort(-(vectors @ q))[:k].tolist())
    rows = {(r["dims"], r["quantize"]): r["recall_at_k"] for r in data["rows"]}
    for d in (128, 64):  # each Matryoshka prefix's own top k, recomputed here in float64
        pv = vectors[:, :d] / np.linalg.norm(vectors[:, :d], axis=1, keepdims=True)
        own = set(np.argsort(-(pv @ (q[:d] / np.linalg.norm(q[:d]))))[:k].tolist())
        assert rows[(d, None)] == pytest.approx(len(own & truth) / k), d
    # binary codes, recomputed: Hamming distance of the signs
    signs = vectors > 0
    ham = (signs != (q > 0)).sum(axis=1)
    border = np.sort(ham)[k - 1]  # ties at the border may go either way
    sure, maybe = set(np.where(ham < border)[0]), set(np.where(ham <= border)[0])
    got = rows[(384, "binary")] * k
    assert len(sure & truth) <= got <= len(maybe & truth)
    assert rows[(384, None)] == 1.0  # the exact scan is the reference
    assert "40 vectors" in data["note"]  # too small for the numbers to mean much


def _get(path: str) -> dict[str, Any]:
    import httpx

    from embedlab.server.app import create_app

    async def go() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            r = await c.get(path)
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def test_search_offers_the_rerankers_on_this_machine(
    panel_index: str, cross_encoder_dir: Any
) -> None:
    import shutil

    from embedlab.server.access import trained_dir

    folder = trained_dir()
    before = _get("/lab/search/rerankers")
    if not before["rerankers"]:  # none yet: said plainly, with how to train one
        assert "No reranker on this machine" in before["note"] and str(folder) in before["note"]
    target = folder / "panel-reranker"
    shutil.copytree(cross_encoder_dir, target)
    try:
        after = _get("/lab/search/rerankers")
        assert "panel-reranker" in after["rerankers"] and after["note"] is None
        assert "panel-reranker" not in before["rerankers"]
        body = {"index": panel_index, "query": "football", "k": 3, "rerank": "panel-reranker"}
        data, _ = _post("/lab/search", body)  # the offered name is one a search can use
        assert "reranked" in data["result"]["stages"]
    finally:
        shutil.rmtree(target)
