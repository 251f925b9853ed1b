"""``embedlab ask --candidates``: the rescoring depth reaches the search stage of an answer,
is reported in its settings, and a bad one is refused (CLI and the ask API) before any model
loads. Answered by the local test chat server."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from tests.conftest import run_async

QUESTION = "How long do astronauts on the space station exercise each day?"


@pytest.fixture(scope="module")
def env(demo: str, chat_server: str) -> dict[str, str]:
    return {"OLLAMA_HOST": chat_server}


def test_ask_candidates_sets_the_depth(env: dict[str, str], minilm: Any) -> None:
    from embedlab.stores import open_index

    idx = open_index("demo")
    ids = np.asarray(idx.chunk_ids())
    x = np.asarray(idx.vectors(), dtype=np.float64)
    q = np.asarray(minilm.embed(QUESTION, role="query")[0], dtype=np.float64)
    hamming = ((x > 0) != (q > 0)).sum(axis=1)
    cosine = x @ q / np.linalg.norm(x, axis=1) / np.linalg.norm(q)
    d = np.sort(hamming)
    depth = next(c for c in range(3, len(ids)) if d[c - 1] < d[c])  # no tie at the cut
    args = ["ask", "demo", QUESTION, "--chat", "ollama:grounded", "-k", "3", "--json"]
    r = CliRunner().invoke(
        cli, [*args, "--no-stream", "--quantize", "binary", "--candidates", str(depth)], env=env
    )
    assert r.exit_code == 0, r.output
    found = json.loads(r.output)["search"]
    assert found["settings"]["rescore_depth"] == depth
    # the k best by cosine among exactly the `depth` nearest rows by Hamming, recomputed here
    first = np.argsort(hamming, kind="stable")[:depth]
    best = first[np.argsort(-cosine[first], kind="stable")[:3]]
    assert [h["chunk"]["id"] for h in found["hits"]] == [int(ids[i]) for i in best]
    np.testing.assert_allclose([h["score"] for h in found["hits"]], cosine[best], atol=1e-4)


def test_ask_refuses_a_bad_depth(env: dict[str, str]) -> None:
    for extra, needle in [
        (["-k", "4", "--quantize", "int8", "--candidates", "2"], "must be at least k = 4, got 2"),
        (["--candidates", "20"], "needs a dims or quantize first stage"),
    ]:
        r = CliRunner().invoke(cli, ["ask", "demo", QUESTION, *extra], env=env)
        assert r.exit_code == 1 and needle in r.output, r.output
        assert "Traceback" not in r.output

    async def post() -> Any:
        import httpx

        from embedlab.server.app import create_app

        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            body = {"index": "demo", "question": QUESTION, "k": 5, "quantize": "binary"}
            return await c.post("/lab/ask", json={**body, "candidates": 4})

    got = run_async(post)
    assert got.status_code == 400, got.text
    err = got.json()["error"]
    assert err["type"] == "InputError" and "must be at least k = 5, got 4" in err["message"]
