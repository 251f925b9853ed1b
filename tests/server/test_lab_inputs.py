"""What the lab makes of the user's own input (issue 15): a text over the model's limit is
said to be truncated, with its token count, on every route that embeds (#4); the Languages
page scores the pairs typed, and refuses lines it cannot read (#1)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from embedlab.models import Encoder

Req = Callable[..., httpx.Response]
LONG = "The quick brown fox jumps over the lazy dog. " * 450  # ~20,000 characters


def test_every_embedding_route_says_when_it_truncated(req: Req, minilm: Encoder) -> None:
    tokens = minilm.count_tokens([LONG])[0]  # counted independently of the routes
    limit = minilm.info.max_tokens
    assert len(LONG) > 20_000 and tokens > limit
    short = "a short text"
    replies = {
        "pair": req("POST", "/lab/similarity", json={"a": short, "b": LONG}),
        "matrix": req("POST", "/lab/similarity/matrix", json={"texts": [short, LONG, short]}),
        "languages": req("POST", "/lab/languages", json={"pairs": [[LONG, short]], "models": ["minilm"]}),
    }  # fmt: skip
    for name, r in replies.items():
        assert r.status_code == 200, (name, r.text)
    notes = {
        "pair": replies["pair"].json()["truncated"],
        "matrix": replies["matrix"].json()["truncated"],
        "languages": replies["languages"].json()["results"][0]["scores"][0]["truncated"],
    }
    where = {"pair": 1, "matrix": 1, "languages": 0}
    for name, found in notes.items():
        assert len(found) == 1, (name, found)
        assert found[0]["index"] == where[name] and found[0]["tokens"] == tokens
        assert found[0]["max_tokens"] == limit and "TRUNCATED" in found[0]["note"]
        assert f"{tokens} tokens" in found[0]["note"]
    # nothing is said about texts that fit
    r = req("POST", "/lab/similarity", json={"a": short, "b": "another short one"})
    assert r.json()["truncated"] == []


def test_languages_scores_the_pairs_typed_or_names_the_bad_line(req: Req, minilm: Encoder) -> None:
    text = "The cat sleeps. | Le chat dort.\n\n  Good morning |  Buenos días  \n"
    r = req("POST", "/lab/languages", json={"text": text, "models": ["minilm"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pairs"] == [["The cat sleeps.", "Le chat dort."], ["Good morning", "Buenos días"]]
    got = [s["cosine"] for s in body["results"][0]["scores"]]
    for (a, b), cos in zip(body["pairs"], got, strict=True):
        v = minilm.embed([a, b])
        assert abs(float(v[0] @ v[1]) - cos) < 1e-5
    for bad, needle in [
        ("no separator at all", "Line 1"),
        ("ok | fine\na | b | c", "Line 2"),
        ("left only | ", "Line 1"),
        ("   \n", "No pairs"),
    ]:
        r = req("POST", "/lab/languages", json={"text": bad, "models": ["minilm"]})
        assert r.status_code == 400, (bad, r.text)
        assert needle in r.json()["error"]["message"], r.text
    r = req("POST", "/lab/languages", json={"pairs": [], "models": ["minilm"]})
    assert r.status_code == 400
