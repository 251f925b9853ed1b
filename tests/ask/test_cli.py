"""``embedlab ask`` through CliRunner, answered by the local test chat server (fast)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from tests.ask.conftest import GROUNDED

QUESTION = "How long do astronauts on the space station exercise each day?"


@pytest.fixture(scope="module")
def env(demo: str, chat_server: str) -> dict[str, str]:
    return {"OLLAMA_HOST": chat_server}


def test_ask_streams_then_lists_sources(env: dict[str, str]) -> None:
    r = CliRunner().invoke(
        cli, ["ask", "demo", QUESTION, "--chat", "ollama:grounded", "-k", "3"], env=env
    )
    assert r.exit_code == 0, r.output
    assert r.output.startswith(GROUNDED)
    assert "* [1] Living on the space station — " in r.output  # cited, with its source
    assert "first token" in r.output and "Flagged" not in r.output


def test_ask_json_and_flags(env: dict[str, str]) -> None:
    r = CliRunner().invoke(
        cli, ["ask", "demo", QUESTION, "--chat", "ollama:uncited", "--json", "--no-stream"], env=env
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["flagged"] == ["Astronauts exercise two hours a day.", "Paris is nice [1]."]
    assert data["sources"][0]["title"] == "Living on the space station"
    assert set(data["timings"]) >= {"embed", "search", "rerank", "prompt", "first_token"}


def test_ask_budget_lists_what_was_left_out(env: dict[str, str]) -> None:
    r = CliRunner().invoke(
        cli,
        ["ask", "demo", QUESTION, "--chat", "ollama:grounded", "-k", "4", "--context-tokens", "80"],
        env=env,
    )
    assert r.exit_code == 0, r.output
    assert "Left out: the budget was spent (3 chunks)" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", " "], "question is empty"),
        (["demo", "q", "-k", "0"], "k must be at least 1"),
        (["demo", "q", "--context-tokens", "0"], "--context-tokens must be at least 1"),
        (["demo", "q", "--chat", "gpt"], "Known chat models: local, ollama:<model>"),
        (["nope", "q"], "No index named 'nope'"),
        (["demo", "q", "--chat", "ollama:cut"], "cut off"),
        (["demo", "q", "--chat", "ollama:grounded", "--context-tokens", "5"], "No source fits"),
    ],
)
def test_bad_input_is_one_line_no_traceback(
    env: dict[str, str], args: list[str], message: str
) -> None:
    r = CliRunner().invoke(cli, ["ask", *args], env=env)
    assert r.exit_code == 1 and message in r.output
    assert "Traceback" not in r.output
