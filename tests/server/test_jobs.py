"""Background jobs through the index routes (in-process ASGI app, real MiniLM): progress
streams as NDJSON while an index is made from pasted texts and uploads, a cancel stops the
run between batches and removes the half-made index, unknown jobs are a 404, and the
numbers the Index page shows match the store's own count."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx

from embedlab import settings
from embedlab.stores import list_indexes, open_index


async def _events(c: httpx.AsyncClient, job: str) -> list[dict[str, Any]]:
    out = []
    async with c.stream("GET", f"/lab/jobs/{job}/events") as s:
        assert s.status_code == 200
        assert s.headers["content-type"].startswith("application/x-ndjson")
        async for line in s.aiter_lines():
            if line.strip():
                out.append(json.loads(line))
    return out


def test_create_streams_progress_then_update_and_drop(call: Callable[..., Any]) -> None:
    texts = [f"Note {i}: the kettle boils water for tea number {i}." for i in range(300)]
    md = "# Bread\n\nKnead the dough, let it rest for an hour, then bake it."

    async def go(c: httpx.AsyncClient) -> Any:
        r = await c.post(
            "/lab/indexes/create",
            json={
                "name": "h15-jobs",
                "texts": texts,
                "uploads": [
                    {"filename": "../../etc/bread.md", "content": md},
                    {"filename": "tea.txt", "encoding": "base64",
                     "content": base64.b64encode(b"Green tea steeps for two minutes.").decode()},
                ],
            },
        )  # fmt: skip
        assert r.status_code == 200, r.text
        created = await _events(c, r.json()["job"])
        stored = (settings.home() / "uploads" / "h15-jobs" / "bread.md").read_text()
        listed = (await c.get("/lab/indexes")).json()["indexes"]
        index_dir = settings.home() / "indexes" / "h15-jobs"
        on_disk = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
        r = await c.post("/lab/indexes/update", json={"name": "h15-jobs", "texts": ["Oolong."]})
        updated = await _events(c, r.json()["job"])
        stats_after = open_index("h15-jobs").stats()
        drop = (await c.post("/lab/indexes/drop", json={"name": "h15-jobs"})).json()
        gone = await c.get("/lab/jobs/nope/events")
        return created, stored, on_disk, listed, updated, stats_after, drop, gone

    created, stored, on_disk, listed, updated, stats_after, drop, gone = call(go)
    kinds = [e["type"] for e in created]
    assert kinds[-1] == "done" and kinds.count("done") == 1
    progress = [e for e in created if e["type"] == "progress" and "chunks_embedded" in e]
    # MiniLM embeds in batches: several progress lines, counts never going back
    assert len(progress) >= 3
    counts = [e["chunks_embedded"] for e in progress]
    assert counts == sorted(counts) and counts[-1] >= 300
    result = created[-1]["result"]
    # the upload's path is dropped: only its base name is written, in the server's folder
    written = sorted(result["files_written"])
    assert written[0] == "bread.md" and written[2] == "tea.txt"
    assert written[1].startswith("pasted-") and written[1].endswith(".jsonl")
    folder = settings.home() / "uploads" / "h15-jobs"
    assert stored == md
    # independent count: each pasted text is a short document of one chunk, plus one chunk
    # per uploaded file
    assert result["stats"]["chunks"] == len(texts) + 2 == result["report"]["chunks_embedded"]
    assert result["stats"]["files"] == 3
    row = next(r for r in listed if r["name"] == "h15-jobs")
    assert row["from_page"] is True and row["chunks"] == len(texts) + 2
    assert abs(row["bytes_on_disk"] - on_disk) <= 0.05 * on_disk
    assert updated[-1]["type"] == "done"
    assert updated[-1]["result"]["report"]["chunks_embedded"] == 1
    assert stats_after.chunks == len(texts) + 3
    assert drop == {"dropped": "h15-jobs", "files_removed": True}
    assert "h15-jobs" not in list_indexes() and not folder.exists()
    assert gone.status_code == 404 and gone.json()["error"]["type"] == "JobNotFoundError"


def test_cancel_stops_between_batches_and_removes_the_new_index(live_server: str) -> None:
    """Against a real uvicorn (httpx's ASGI transport buffers a stream whole): events arrive
    while the job runs, and a cancel sent after the first embedded batch stops it."""
    texts = [f"Sentence {i} about rivers, boats and the weather on day {i}." for i in range(1200)]
    with httpx.Client(base_url=live_server, timeout=120) as c:
        r = c.post("/lab/indexes/create", json={"name": "h15-cancel", "texts": texts})
        assert r.status_code == 200, r.text
        job = r.json()["job"]
        events: list[dict[str, Any]] = []
        cancel = None
        with c.stream("GET", f"/lab/jobs/{job}/events") as s:
            for line in s.iter_lines():
                if not line.strip():
                    continue
                ev = json.loads(line)
                events.append(ev)
                if cancel is None and ev.get("chunks_embedded", 0) > 0:
                    cancel = c.post(f"/lab/jobs/{job}/cancel", json={}).json()
        status = c.get(f"/lab/jobs/{job}").json()
    assert cancel is not None and cancel["cancel_requested"] is True, cancel
    assert events[-1]["type"] == "cancelled", events[-3:]
    embedded = max(e.get("chunks_embedded", 0) for e in events)
    assert 0 < embedded < len(texts)  # it stopped before the end
    # the bar moves with the chunks embedded (pasted texts: one chunk each)
    fractions = [e["fraction"] for e in events if e.get("chunks_embedded")]
    assert fractions == sorted(fractions) and 0 < fractions[0] < 1
    assert status["state"] == "cancelled"
    assert "h15-cancel" not in list_indexes()
    assert not (settings.home() / "uploads" / "h15-cancel").exists()


def test_bad_requests_are_refused_before_a_job_starts(req: Callable[..., httpx.Response]) -> None:
    r = req("POST", "/lab/indexes/create", json={"name": "../etc", "texts": ["x"]})
    assert r.status_code == 403 and r.json()["error"]["type"] == "AccessDeniedError"
    r = req("POST", "/lab/indexes/create", json={"name": "bad name!", "texts": ["x"]})
    assert r.status_code == 400 and "Invalid index name" in r.json()["error"]["message"]
    r = req("POST", "/lab/indexes/update", json={"name": "h15-missing", "texts": ["x"]})
    assert r.status_code == 404
    r = req("POST", "/lab/indexes/drop", json={"name": "h15-missing"})
    assert r.status_code == 404
    r = req("POST", "/lab/jobs/nope/cancel", json={})
    assert r.status_code == 404
