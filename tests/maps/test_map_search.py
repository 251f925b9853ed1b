"""Map search, filters, cluster labels and compact points (issue 15): the API in-process
with real MiniLM, every number checked against a computation of its own; the page in
Chromium against the live server (search highlights, query placed, filter counts, labels)."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from embedlab.maps import corpus_from_texts
from embedlab.maps.build import build_map
from embedlab.maps.view import compact, search_text
from embedlab.server.app import create_app
from tests.conftest import run_async

TIMEOUT = 120_000
TEXTS = (
    [f"The football match ended {i} to {i + 1} after extra time." for i in range(20)]
    + [f"Bake the bread for {20 + i} minutes until golden." for i in range(20)]
    + [f"The stock market fell {i} points on Monday." for i in range(20)]
)


def _arr(b64: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype=np.dtype(dtype).newbyteorder("<"))


def test_search_text_matches_whole_word_starts() -> None:
    m = build_map(
        corpus_from_texts(["It is raining", "A train left", "Rain, rain", "sunny day"]),
        vectors=np.eye(4, 8, dtype=np.float32) + 0.01,
        method="pca",
        clusters=2,
        use_cache=False,
    )
    assert search_text(m, "rain") == ([0, 2], 2)  # not "train"
    assert search_text(m, "RAIN it") == ([0], 1)
    assert search_text(m, "rain", limit=1) == ([0], 2)
    with pytest.raises(Exception, match="Type a word"):
        search_text(m, "  ?! ")


def test_map_job_compact_points_search_and_placement(minilm: Any) -> None:
    app = create_app()

    async def flow(c: httpx.AsyncClient) -> Any:
        r = await c.post("/lab/maps/jobs", json={"texts": TEXTS, "method": "pca", "clusters": 3})
        assert r.status_code == 200, r.text
        lines = (await c.get(f"/lab/jobs/{r.json()['job']}/events")).text.splitlines()
        events = [json.loads(x) for x in lines if x.strip()]
        res = events[-1]["result"]
        point = (await c.get(f"/lab/maps/{res['id']}/points/41")).json()
        found = (await c.post(f"/lab/maps/{res['id']}/search", json={"text": "market"})).json()
        again = (await c.get(f"/lab/maps/{res['id']}")).json()
        return events, res, point, found, again

    events, res, point, found, again = run_async(lambda: _client(app, flow))
    assert [e["type"] for e in events][-1] == "done"
    stages = [e["stage"] for e in events if e["type"] == "progress"]
    assert "trust" in stages and any(s.startswith("embedding") for s in stages)
    c = res["compact"]
    assert c["n"] == len(TEXTS) and "figure" not in res
    x, y = _arr(c["x"], "f4"), _arr(c["y"], "f4")
    assert (float(x[41]), float(y[41])) == pytest.approx((point["x"], point["y"]))
    assert point["text"] == TEXTS[41] and c["texts"][41] == TEXTS[41]
    # cluster codes: counted here, they give the summary's cluster sizes
    cl = c["fields"]["cluster"]
    counts = Counter(cl["names"][k] for k in _arr(cl["codes"], "u2"))
    assert {cc["label"]: cc["size"] for cc in res["clusters"]} == dict(counts)
    assert sorted(lab["size"] for lab in c["labels"]) == sorted(counts.values())
    # each label sits at the median of its cluster's points
    codes = _arr(cl["codes"], "u2")
    for lab in c["labels"]:
        rows = np.flatnonzero(codes == cl["names"].index(lab["text"]))
        assert lab["x"] == pytest.approx(float(np.median(x[rows])), abs=1e-5)
    # search: the matches are the texts holding the word, counted independently
    want = [i for i, t in enumerate(TEXTS) if "market" in t.lower().split()]
    assert found["matches"] == want and found["total"] == 20
    assert found["query"]["how"] == "transform" and "pca" in found["query"]["note"]
    # the query lands where the fitted PCA puts its vector: recompute with sklearn-free numpy
    assert len(found["neighbours"]) == 10
    assert sum("market" in n["text"] for n in found["neighbours"]) >= 8
    assert again["compact"]["x"] == c["x"]


def test_compact_is_far_smaller_than_the_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past TEXTS_UP_TO points the texts stay on the server (fetched on hover): lowered to
    200 here so a 1,000-point map shows the large-map payload."""
    import embedlab.maps.view as view

    monkeypatch.setattr(view, "TEXTS_UP_TO", 200)
    rng = np.random.default_rng(0)
    n = 1000
    vecs = rng.normal(size=(n, 32)).astype(np.float32)
    texts = [f"text {i} " + "word " * 30 for i in range(n)]
    m = build_map(corpus_from_texts(texts), vectors=vecs, method="pca", clusters=5, use_cache=False)
    from embedlab.figures.maps import map_figure

    small = compact(m)
    assert small["texts"] is None
    assert len(json.dumps(small)) * 5 < len(map_figure(m).to_json())


async def _client(app: Any, flow: Any) -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", timeout=300
    ) as c:
        return await flow(c)


@pytest.mark.browser
def test_map_page_search_filter_and_labels(page: Any, live_server: str, test_output: Path) -> None:
    with httpx.Client(base_url=live_server, timeout=300) as c:
        job = c.post("/lab/maps/jobs", json={"texts": TEXTS, "method": "pca", "clusters": 3}).json()
        lines = c.get(f"/lab/jobs/{job['job']}/events").text.splitlines()
    res = json.loads(lines[-1])["result"]
    page.goto(f"{live_server}/static/map.html?map={res['id']}")
    page.wait_for_selector("#map[data-ready]", timeout=TIMEOUT)
    assert page.locator("#shown").text_content() == f"{len(TEXTS)} of {len(TEXTS)} points shown"
    # cluster labels drawn on the map, one per cluster
    notes = page.evaluate(
        "() => document.getElementById('map').layout.annotations.map((a) => a.text)"
    )
    assert sorted(re.sub("<[^>]+>", "", t) for t in notes) == sorted(
        cc["label"] for cc in res["clusters"]
    )
    # filter by a field: only that cluster's points stay
    biggest = max(res["clusters"], key=lambda cc: cc["size"])
    page.select_option("#filterfield", "cluster")
    page.select_option("#filtervalue", biggest["label"])
    page.wait_for_function(f"document.getElementById('map').dataset.shown === '{biggest['size']}'")
    assert (
        page.locator("#shown").text_content() == f"{biggest['size']} of {len(TEXTS)} points shown"
    )
    page.select_option("#filterfield", "")
    # text search: matches highlighted, the query placed as a star
    page.fill("#query", "bread")
    page.click("#place")
    page.wait_for_selector("#map[data-search]", timeout=TIMEOUT)
    want = sum("bread" in t.lower().split() for t in TEXTS)
    assert page.locator("#matchcount").get_attribute("data-total") == str(want)
    traces = page.evaluate(
        "() => document.getElementById('map').data.map((t) => [t.name, t.x.length])"
    )
    by_name = dict(traces)
    assert by_name["contains “bread”"] == want and by_name["query"] == 1
    assert "transform" in page.locator("#querynote").text_content()
    page.screenshot(path=str(test_output / "map_search.png"), full_page=True)
