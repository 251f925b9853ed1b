"""``embedlab serve --ollama URL --openai URL``: the chat servers reach the app's config,
which the Connect listing and the chat routes read (uvicorn itself is replaced here)."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli


def test_serve_takes_the_chat_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from embedlab.server import models

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setattr(models, "configure_threads", lambda *a: None)
    args = ["serve", "--ollama", "http://127.0.0.1:11999", "--openai", "http://127.0.0.1:8000/v1",
            "--openai", "http://127.0.0.1:8001/v1"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    config = seen["app"].state.config
    assert config.ollama == "http://127.0.0.1:11999"
    assert config.openai == ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1")
    plain = CliRunner().invoke(cli, ["serve"])
    assert plain.exit_code == 0 and seen["app"].state.config.openai == ()
