"""``embedlab serve`` parses its options and hands them to ``embedlab.server.run``; ``run``
builds the app and binds loopback by default. uvicorn itself is replaced here (the real
server is exercised by the ``live_server`` tests)."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli


def test_serve_defaults_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from embedlab.server import models

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setattr(models, "configure_threads", lambda *a: seen.update(threads=True))
    result = CliRunner().invoke(cli, ["serve", "--models", "minilm, glove-50d"])
    assert result.exit_code == 0, result.output
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8765
    pool = seen["app"].state.pool
    assert pool.default == "minilm" and pool.preload == ["minilm", "glove-50d"]
    assert "http://127.0.0.1:8765/" in result.output
    assert seen["threads"]  # the server splits the cores between its encoder threads


def test_run_is_callable_from_python(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from embedlab.server import models, run

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setattr(models, "configure_threads", lambda *a: seen.update(threads=True))
    run("127.0.0.1", 9999, ["glove-50d"])
    assert seen["port"] == 9999 and seen["app"].state.pool.default == "glove-50d"


def test_serve_refuses_an_unknown_model_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: pytest.fail("must not start"))
    result = CliRunner().invoke(cli, ["serve", "--models", "minilm,no-such-model"])
    assert result.exit_code == 1
    assert "Unknown model 'no-such-model'" in result.output and "glove-50d" in result.output


def test_serve_beyond_loopback_prints_a_key_and_passes_the_trust_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    from embedlab.server import models

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setattr(models, "configure_threads", lambda *a: None)
    monkeypatch.delenv("EMBEDLAB_API_KEY", raising=False)
    args = ["serve", "--host", "0.0.0.0", "--allow-host", "lab.home", "--allow-origin",
            "https://app.example", "--rerankers", "/srv/ce"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    config = seen["app"].state.config
    assert seen["host"] == "0.0.0.0" and config.api_key and len(config.api_key) >= 24
    assert f"http://0.0.0.0:8765/?token={config.api_key}" in result.output
    assert f"API key: {config.api_key}" in result.output
    assert config.allow_hosts == ("lab.home",) and config.allow_origins == ("https://app.example",)
    assert seen["app"].state.policy.reranker("/srv/ce") == "/srv/ce"
    # a key given by the operator is the one required; loopback prints none
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--api-key", "mine"])
    assert seen["app"].state.config.api_key == "mine" and "?token=mine" in result.output
    result = CliRunner().invoke(cli, ["serve"])
    assert "API key" not in result.output and seen["app"].state.config.api_key is None
