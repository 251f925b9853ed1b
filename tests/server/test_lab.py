"""The lab's JSON routes through the ASGI transport: values come from the explore layer,
every answer carries timing, figures are plotly JSON."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import numpy as np
import pytest

from embedlab.explore.calibration import calibration_for
from embedlab.models import Encoder
from embedlab.models.registry import find_spec, is_installed

Req = Callable[..., httpx.Response]


def test_embed_panel(req: Req, minilm: Encoder) -> None:
    r = req("POST", "/lab/embed", json={"texts": ["king", "queen"]})
    assert r.status_code == 200, r.text
    body = r.json()
    item = body["items"][0]
    np.testing.assert_allclose(item["vector"], minilm.embed("king")[0], atol=1e-5)
    assert item["stats"]["dims"] == 384 and abs(item["stats"]["l2_norm"] - 1) < 1e-4
    bars = item["figure"]["data"][0]
    assert bars["type"] == "bar" and len(bars["marker"]["color"]) == 384
    assert {"inference_ms", "load_ms"} <= set(body["timing"])
    assert body["heatmap"]["data"][0]["type"] == "heatmap"


def test_similarity_reads_against_the_calibration(req: Req, minilm: Encoder) -> None:
    r = req("POST", "/lab/similarity", json={"a": "I love this movie", "b": "I hate this movie"})
    body = r.json()
    assert r.status_code == 200, body
    vecs = minilm.embed(["I love this movie", "I hate this movie"])
    cos = float(vecs[0] @ vecs[1])
    assert abs(body["cosine"] - cos) < 1e-5
    assert abs(body["percentile"] - calibration_for(minilm).percentile(cos)) < 1e-6
    assert body["timing"]["inference_ms"] > 0


def test_analogy_with_word_vectors(req: Req) -> None:
    body = {
        "a": "king",
        "b": "man",
        "c": "woman",
        "model": "glove-50d",
        "expected": "queen",
        "k": 5,
    }
    r = req("POST", "/lab/analogy", json=body)
    out = r.json()
    assert r.status_code == 200, out
    assert out["candidates"][0]["text"] == "queen" and out["expected_rank"] == 1
    names = {t["name"] for t in out["figure"]["data"] if t.get("name")}
    assert {"inputs", "a - b + c", "answers"} <= names
    bad = req("POST", "/lab/analogy", json={**body, "a": "qwxzzy"})
    assert bad.status_code == 400 and "vocabulary" in bad.json()["error"]["message"]


def test_languages_says_how_to_install_a_missing_model(
    req: Req, monkeypatch: pytest.MonkeyPatch
) -> None:
    # mpnet is optional (`make mpnet`): make it missing here whether or not it is installed
    import embedlab.models.paths
    from embedlab.models import registry

    monkeypatch.setattr(embedlab.models.paths, "mpnet_parts_present", lambda: False)
    registry._CACHE.encoders.discard(lambda key: key[0] == "mpnet")
    spec = find_spec("mpnet")
    assert spec is not None and not is_installed(spec)
    r = req("POST", "/lab/languages", json={"models": ["minilm", "mpnet"]})
    assert r.status_code == 200, r.text
    results = {x["model"]: x for x in r.json()["results"]}
    assert results["minilm"]["available"] and len(results["minilm"]["scores"]) == 3
    assert not results["mpnet"]["available"] and "make mpnet" in results["mpnet"]["install"]


def test_exercises_and_probes_are_listed(req: Req) -> None:
    ex = req("GET", "/lab/exercises").json()["exercises"]
    assert {"sentiment-trap", "king-queen", "cross-language"} <= {e["id"] for e in ex}
    probes = req("GET", "/lab/probes").json()
    assert "trained on" in probes["caution"] and probes["bias"][0]["mirror"]
