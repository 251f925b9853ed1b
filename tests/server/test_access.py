"""The access policy: a request names catalogue models, trained models and indexes in
embedlab's home, and what the operator started the server with; never a path.

An audit hook watches a foreign folder outside the home: every ``open``, ``listdir`` and
``scandir`` under it is recorded, so "refused before anything was opened" is measured, not
assumed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from embedlab.models import Encoder
from embedlab.server.access import NAMING_FIELDS, AccessPolicy, looks_like_path, trained_dir
from embedlab.server.app import create_app
from embedlab.server.config import ServerConfig

Req = Callable[..., httpx.Response]

#: folders the audit hook watches (empty: the hook returns at once).
WATCHED: list[str] = []
#: (event, path) of every watched access.
SEEN: list[tuple[str, str]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not WATCHED or event not in ("open", "os.listdir", "os.scandir"):
        return
    target = args[0] if args else None
    if isinstance(target, bytes):
        target = target.decode(errors="replace")
    if isinstance(target, os.PathLike | str):
        path = os.path.abspath(os.fspath(target))
        if any(path.startswith(w) for w in WATCHED):
            SEEN.append((event, path))


sys.addaudithook(_audit)


@pytest.fixture()
def foreign(tmp_path: Path) -> Iterator[Path]:
    """A folder outside embedlab's home holding what an attacker would point at: a text
    file, a model-like folder, a cross-encoder-like folder and an index-like folder."""
    root = tmp_path / "foreign"
    (root / "model").mkdir(parents=True)
    (root / "model" / "config.json").write_text('{"model_type": "bert"}')
    (root / "model" / "modules.json").write_text("[]")
    (root / "notes.txt").write_text("secret line one\nsecret line two\nsecret line three\n")
    (root / "index").mkdir()
    (root / "index" / "index.sqlite").write_bytes(b"not a database")
    WATCHED.append(str(root.resolve()))
    SEEN.clear()
    yield root.resolve()
    WATCHED.clear()


def _paths(root: Path) -> list[str]:
    return [
        str(root / "notes.txt"),
        str(root / "model"),
        f"st:{root / 'model'}",
        f"words:{root / 'model'}",
        "~/notes.txt",
        "../foreign/notes.txt",
        "..\\foreign\\notes.txt",
        "C:\\foreign\\model",
    ]


def _naming_fields(app: FastAPI) -> list[tuple[str, str, str, str]]:
    """Every (method, path, place, field) of the app's routes that names something, read
    from the OpenAPI schema FastAPI builds from ``app.routes``."""
    schema = app.openapi()
    components = schema.get("components", {}).get("schemas", {})
    found = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                if param["name"] in NAMING_FIELDS:
                    found.append((method.upper(), path, param["in"], param["name"]))
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = content.get("schema", {}).get("$ref", "")
            props = components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
            for name in props:
                if name in NAMING_FIELDS:
                    found.append((method.upper(), path, "body", name))
    return found


def _is_list(app: FastAPI, path: str, method: str, name: str) -> bool:
    schema = app.openapi()
    op = schema["paths"][path][method.lower()]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    prop = schema["components"]["schemas"][ref]["properties"][name]
    kinds = [prop.get("type")] + [p.get("type") for p in prop.get("anyOf", [])]
    return "array" in kinds


def test_every_route_refuses_a_path_in_every_field_that_names_something(
    app: FastAPI, req: Req, foreign: Path
) -> None:
    fields = _naming_fields(app)
    routes = {(m, p, f) for m, p, _, f in fields}
    # the holes the issue found are among the routes walked
    assert {
        ("POST", "/lab/maps", "source"),
        ("POST", "/lab/search", "rerank"),
        ("POST", "/lab/evaluate/grid", "reranker"),
        ("POST", "/lab/evaluate/grid", "models"),
        ("POST", "/v1/embeddings", "model"),
        ("POST", "/lab/compare", "models"),
    } <= routes, routes
    for method, path, place, name in fields:
        concrete = path.replace("{map_id}", "m").replace("{job}", "j").replace("{row}", "0")
        for value in _paths(foreign):
            if place == "query":
                r = req(method, concrete, params={name: value})
            else:
                listy = _is_list(app, path, method, name)
                r = req(method, concrete, json={name: [value] if listy else value})
            assert r.status_code == 403, (method, path, name, value, r.text)
            error = r.json()["error"]
            assert error["type"] == "AccessDeniedError", error
            assert "never a path" in error["message"] and "catalogue models" in error["message"]
    assert SEEN == []  # nothing under the foreign folder was opened or listed


def test_a_map_never_reads_a_file_named_in_the_request(
    req: Req, foreign: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hole: ``{"source": "/some/file.txt"}`` sent the file's lines back in the map."""
    r = req("POST", "/lab/maps", json={"source": str(foreign / "notes.txt"), "method": "pca"})
    assert r.status_code == 403 and "secret" not in r.text, r.text
    # a bare name that is a file in the server's working folder is not read either
    monkeypatch.chdir(foreign)
    r = req("POST", "/lab/maps", json={"source": "notes.txt", "method": "pca"})
    assert r.status_code == 404 and "secret" not in r.text, r.text
    assert r.json()["error"]["type"] == "IndexNotFoundError"
    assert "texts" in r.json()["error"]["message"]  # it says how to map your own texts
    assert SEEN == []


def test_a_map_of_pasted_texts(req: Req, minilm: Encoder) -> None:
    texts = [f"A sentence about {w}." for w in ("cats", "dogs", "cars", "trains", "bread")]
    texts += [f"Another note on {w}." for w in ("cats", "dogs", "cars", "trains", "bread")]
    r = req("POST", "/lab/maps", json={"texts": texts, "method": "pca", "clusters": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["points"] == 10 and body["id"].startswith("texts:")
    assert {p["text"] for p in body["outliers"]} <= set(texts)


def test_rerankers_open_only_trained_or_operator_folders(
    req: Req, foreign: Path, minilm: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hole: ``rerank`` went to the cross-encoder loader, which opens any folder."""
    # the reranker is judged before the index is opened: no index needs to exist
    base = {"index": "demo", "query": "cats", "mode": "bm25"}
    for value in (str(foreign / "model"), "cross-encoder/ms-marco-MiniLM-L6-v2"):
        r = req("POST", "/lab/search", json={**base, "rerank": value})
        assert r.status_code == 403, r.text
        grid = {"dataset": "news-200", "models": ["minilm"], "reranker": value}
        assert req("POST", "/lab/evaluate/grid", json=grid).status_code == 403
    monkeypatch.chdir(foreign)  # a bare name is looked up in the home, not the working folder
    r = req("POST", "/lab/search", json={**base, "rerank": "model"})
    assert r.status_code == 403 and str(trained_dir()) in r.json()["error"]["message"]
    r = req("POST", "/v1/embeddings", json={"input": "x", "model": "st:model"})
    assert r.status_code == 403 and "no trained model 'model'" in r.text
    assert SEEN == []


def test_the_policy_resolves_trained_names_inside_the_home(foreign: Path) -> None:
    policy = AccessPolicy(models=("st:/opt/served",), rerankers=("/opt/rr",))
    folder = trained_dir() / "my-model"
    folder.mkdir(parents=True, exist_ok=True)
    assert policy.model("st:my-model") == f"st:{folder}"
    assert policy.model("words:my-model") == f"words:{folder}"
    assert policy.reranker("my-model") == str(folder)
    assert policy.model("minilm") == "minilm" and policy.model(None) is None
    # what the operator started the server with passes exactly as spelled
    assert policy.model("st:/opt/served") == "st:/opt/served"
    assert policy.reranker("/opt/rr") == "/opt/rr"
    link = trained_dir() / "link"
    if not link.exists():
        link.symlink_to(foreign / "model")
    for bad in ("st:link", "st:/opt/other", "ollama:nomic", "openai:x", "st:..", "st:~"):
        with pytest.raises(Exception, match="does not open") as info:
            policy.model(bad)
        assert type(info.value).__name__ == "AccessDeniedError"
    assert SEEN == []


def test_what_looks_like_a_path() -> None:
    for value in ("/etc", "a/b", "a\\b", "..", "~", "~root", "C:x", "st:~/m", "st:.hidden"):
        assert looks_like_path(value), value
    for value in ("minilm", "glove-50d", "e5-small", "st:my-model", "bge-small-en-v1.5"):
        assert not looks_like_path(value), value


def test_operator_models_are_served_by_exact_name(minilm: Encoder) -> None:
    app = create_app(config=ServerConfig(models=("minilm", "st:/not/a/real/folder")))
    assert app.state.policy.model("st:/not/a/real/folder") == "st:/not/a/real/folder"
    with pytest.raises(Exception, match="does not open"):
        app.state.policy.model("st:/not/a/real/other")
