"""Defect #3 of issue 15 through the Measure page's API (real MiniLM weights, in process):
a reranker is trained on an index as a background job with per-step progress, then offered
with the rerankers on this machine; an unknown reranker is refused at once, naming what
exists, before any model or hub is touched."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from embedlab.models.rerankers import load_reranker
from embedlab.server.access import trained_dir

TOPICS = ["rice", "bread", "tea", "soup", "pasta", "salad", "eggs", "coffee", "cake", "fish"]


def test_unknown_reranker_fails_fast_with_what_exists(req: Callable[..., httpx.Response]) -> None:
    r = req("POST", "/lab/evaluate/grid/jobs", json={"dataset": "x", "reranker": "minilm"})
    assert r.status_code == 403
    msg = r.json()["error"]["message"]
    assert "no trained reranker of that name" in msg and str(trained_dir()) in msg


def test_train_a_reranker_on_an_index_as_a_job(call: Callable[..., Any]) -> None:
    records = [
        {"title": f"How to cook {t}", "text": f"To cook {t}, heat it gently and season the {t} "
         f"with salt; {t} is ready when tender."} for t in TOPICS
    ]  # fmt: skip
    jsonl = "\n".join(json.dumps(r) for r in records)

    async def go(c: httpx.AsyncClient) -> Any:
        r = await c.post(
            "/lab/indexes/create",
            json={"name": "h15-rr-index",
                  "uploads": [{"filename": "recipes.jsonl", "content": jsonl}]},
        )  # fmt: skip
        await c.get(f"/lab/jobs/{r.json()['job']}/events")
        before = (await c.get("/lab/search/rerankers")).json()
        r = await c.post(
            "/lab/evaluate/rerankers/train",
            json={"index": "h15-rr-index", "name": "h15-rr", "max_pairs": len(TOPICS)},
        )
        assert r.status_code == 200, r.text
        text = (await c.get(f"/lab/jobs/{r.json()['job']}/events")).text
        after = (await c.get("/lab/search/rerankers")).json()
        again = await c.post(
            "/lab/evaluate/rerankers/train", json={"index": "h15-rr-index", "name": "h15-rr"}
        )
        await c.post("/lab/indexes/drop", json={"name": "h15-rr-index"})
        return before, [json.loads(x) for x in text.splitlines() if x.strip()], after, again

    before, events, after, again = call(go)
    assert "h15-rr" not in before["rerankers"]
    assert events[-1]["type"] == "done", events[-1]
    steps = [e for e in events if e.get("step")]
    assert steps and [e["step"] for e in steps] == list(range(1, len(steps) + 1))
    result = events[-1]["result"]
    assert result["steps"] == steps[-1]["steps"] == len(steps)
    assert result["pairs"] == len(TOPICS)
    assert "h15-rr" in after["rerankers"]
    # the saved reranker works: the matching recipe outscores another for its title
    try:
        rr = load_reranker(str(trained_dir() / "h15-rr"))
        s = rr.score("How to cook rice", [records[0]["text"], records[5]["text"]])
        assert s[0] > s[1]
    finally:  # other tests of the session see no reranker of ours
        shutil.rmtree(trained_dir() / "h15-rr", ignore_errors=True)
    assert again.status_code == 400 and "already exists" in again.json()["error"]["message"]


@pytest.mark.browser
def test_measure_page_trains_a_reranker_with_progress(page: Any, live_server: str) -> None:
    records = [
        {"title": f"Caring for {t}", "text": f"Water the {t} weekly and keep the {t} in light."}
        for t in (
            "ferns",
            "roses",
            "cacti",
            "orchids",
            "tulips",
            "basil",
            "mint",
            "ivy",
            "moss",
            "lilies",
        )
    ]
    jsonl = "\n".join(json.dumps(r) for r in records)
    with httpx.Client(base_url=live_server, timeout=300) as c:
        r = c.post(
            "/lab/indexes/create",
            json={"name": "h15-rr-plants",
                  "uploads": [{"filename": "plants.jsonl", "content": jsonl}]},
        )  # fmt: skip
        c.get(f"/lab/jobs/{r.json()['job']}/events")
    page.goto(live_server + "/static/measure.html")
    page.wait_for_selector("#rr-index option[value='h15-rr-plants']", state="attached")
    page.wait_for_selector("#reranker option", state="attached")
    page.evaluate("() => { document.getElementById('rr-train').open = true; }")
    page.select_option("#rr-index", "h15-rr-plants")
    page.fill("#rr-name", "h15-rr-page")
    page.click("#rr-run")
    page.wait_for_selector("#rr-job:not([data-state='running'])", timeout=300_000)
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    assert page.locator("#rr-job").get_attribute("data-state") == "done"
    assert int(page.locator("#rr-job").get_attribute("data-events")) >= 3  # steps streamed
    assert page.locator("#reranker").input_value() == "h15-rr-page"  # offered and chosen
    assert f"on {len(records)} pairs" in page.locator("#rr-result").text_content()
    assert (trained_dir() / "h15-rr-page").is_dir()
    shutil.rmtree(trained_dir() / "h15-rr-page")
    with httpx.Client(base_url=live_server, timeout=60) as c:
        c.post("/lab/indexes/drop", json={"name": "h15-rr-plants"})
