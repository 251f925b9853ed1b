"""The OpenAI- and Ollama-shaped endpoints through httpx's ASGI transport, against MiniLM."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np

from embedlab.models import Encoder
from embedlab.vectors import truncate

Req = Callable[..., httpx.Response]
TEXTS = ["The cat sat on the mat.", "Stock markets fell sharply on Monday."]


def test_openai_embeddings_match_the_model(req: Req, minilm: Encoder) -> None:
    r = req("POST", "/v1/embeddings", json={"input": TEXTS, "model": "minilm"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "list" and body["model"] == "minilm"
    assert [d["index"] for d in body["data"]] == [0, 1]
    got = np.array([d["embedding"] for d in body["data"]], dtype=np.float32)
    np.testing.assert_allclose(got, minilm.embed(TEXTS), atol=1e-5)
    tokens = sum(minilm.count_tokens(TEXTS) or [])
    assert body["usage"] == {"prompt_tokens": tokens, "total_tokens": tokens}
    assert set(body["timing"]) >= {"inference_ms", "load_ms"}
    assert body["timing"]["inference_ms"] > 0


def test_openai_dimensions_and_base64(req: Req, minilm: Encoder) -> None:
    r = req(
        "POST",
        "/v1/embeddings",
        json={"input": TEXTS[0], "dimensions": 64, "encoding_format": "base64"},
    )
    assert r.status_code == 200, r.text
    raw = base64.b64decode(r.json()["data"][0]["embedding"])
    vec = np.frombuffer(raw, dtype="<f4")
    assert vec.shape == (64,)
    assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5  # renormalised after the cut
    np.testing.assert_allclose(vec, truncate(minilm.embed(TEXTS[0]), 64)[0], atol=1e-5)


def test_ollama_embed_shape_and_durations(req: Req, minilm: Encoder) -> None:
    r = req(
        "POST", "/api/embed", json={"model": "minilm:latest", "input": TEXTS, "dimensions": 128}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "minilm"
    emb = np.array(body["embeddings"])
    assert emb.shape == (2, 128)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(emb, truncate(minilm.embed(TEXTS), 128), atol=1e-5)
    assert isinstance(body["total_duration"], int) and body["total_duration"] > 1000  # ns
    assert (
        isinstance(body["load_duration"], int) and body["load_duration"] <= body["total_duration"]
    )
    assert body["prompt_eval_count"] == sum(minilm.count_tokens(TEXTS) or [])


def test_model_listings(req: Req) -> None:
    tags = req("GET", "/api/tags").json()["models"]
    assert "minilm" in [m["name"] for m in tags]
    models = req("GET", "/v1/models").json()
    assert "minilm" in [m["id"] for m in models["data"]]


def _error(r: httpx.Response, status: int, kind: str, *needles: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["type"] == kind, err
    for n in needles:
        assert n in err["message"], err["message"]
    return err


def test_bad_inputs_get_clear_json_errors(req: Req) -> None:
    post = lambda path, **kw: req("POST", path, **kw)  # noqa: E731
    _error(post("/v1/embeddings", json={"input": ""}), 400, "EmptyInputError", "empty")
    _error(post("/v1/embeddings", json={"input": []}), 400, "EmptyInputError", "No text")
    _error(post("/v1/embeddings", json={"input": ["ok", "  "]}), 400, "EmptyInputError", "#1")
    _error(post("/v1/embeddings", json={"input": [[101, 102]]}), 400, "InputError", "token array")
    _error(post("/v1/embeddings", json={"input": 5}), 422, "ValidationError", "input")
    _error(
        post("/v1/embeddings", json={"model": "minilm"}),
        422,
        "ValidationError",
        "input",
        "required",
    )
    _error(
        post("/v1/embeddings", json={"input": "x", "encoding_format": "hex"}),
        422,
        "ValidationError",
        "encoding_format",
    )
    _error(
        post("/v1/embeddings", json={"input": "x", "dimensions": 999}), 400, "InputError", "1..384"
    )
    bad = post(
        "/v1/embeddings", content=b'{"input": "x",', headers={"content-type": "application/json"}
    )
    _error(bad, 400, "MalformedJSON", "not valid JSON")
    unknown = _error(
        post("/v1/embeddings", json={"input": "x", "model": "gpt-9"}), 404, "UnknownModelError"
    )
    assert "minilm" in unknown["message"] and "glove-50d" in unknown["message"]


def test_limits(req: Req) -> None:
    long_text = "word " * 600
    _error(
        req("POST", "/v1/embeddings", json={"input": long_text}),
        413,
        "TextTooLongError",
        "at most 256",
    )
    r = req("POST", "/api/embed", json={"input": long_text, "truncate": False})
    _error(r, 400, "TextTooLongError", "at most 256")
    assert req("POST", "/api/embed", json={"input": long_text}).status_code == 200  # truncated
    _error(
        req("POST", "/v1/embeddings", json={"input": ["a"] * 257}),
        413,
        "BatchTooLargeError",
        "at most 256",
    )
    huge = {"input": "x" * (9 * 1024 * 1024)}
    _error(req("POST", "/v1/embeddings", json=huge), 413, "PayloadTooLarge", "limit")
    _error(req("GET", "/no/such/page"), 404, "HTTPError", "/docs")
    # and the server still serves
    assert req("POST", "/v1/embeddings", json={"input": "still here"}).status_code == 200


def test_static_lab_and_plotly(req: Req) -> None:
    home = req("GET", "/")
    assert home.status_code == 200 and "common.js" in home.text
    js = req("GET", "/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert "javascript" in js.headers["content-type"]
    common = req("GET", "/static/common.js").text
    assert "const PAGES" in common and "function api(" in common


def test_api_docs_work_offline(req: Req) -> None:
    docs = req("GET", "/docs")
    assert docs.status_code == 200
    assert "jsdelivr" not in docs.text and "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert req("GET", "/docs-assets/swagger-ui-bundle.js").status_code == 200
    paths = req("GET", "/openapi.json").json()["paths"]
    assert {"/v1/embeddings", "/api/embed", "/lab/analogy"} <= set(paths)


def test_ollama_reads_json_whatever_the_content_type(req: Req) -> None:
    # curl -d '{...}' sends application/x-www-form-urlencoded; Ollama reads JSON anyway
    body = b'{"model": "minilm", "input": "Why is the sky blue?", "dimensions": 3}'
    r = req(
        "POST",
        "/api/embed",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["embeddings"][0]) == 3


def test_requests_cannot_open_arbitrary_folders_or_remote_servers(req: Req) -> None:
    """A web request may not make the server read any folder or call any remote server."""
    for name in ("st:/etc", "openai:text-embedding-3-small", "ollama:nomic-embed-text"):
        body = _error(
            req("POST", "/v1/embeddings", json={"input": "x", "model": name}),
            403,
            "AccessDeniedError",
        )
        assert "embedlab serve --models" in body["message"], body
