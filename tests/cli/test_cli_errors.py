"""The CLI never shows a traceback unless asked: every error is one line and a non-zero exit.

Each known traceback of issue 12 is reproduced here through the real command: files that
are not UTF-8 given to ``similarity --file``, ``map`` and ``train ... --pairs``, and a folder
that is not a model given as ``st:PATH``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from embedlab.cli import explore_cmd
from embedlab.cli.main import cli

LATIN1 = "café au lait\ntrès bon\nnaïve\n".encode("latin-1")


def _one_line_error(result: Result, *needles: str) -> str:
    """The error line of a failed run, after checking it is one line on stderr, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert result.stderr == result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_similarity_file_that_is_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "latin.txt"
    bad.write_bytes(LATIN1)
    result = CliRunner().invoke(cli, ["similarity", "--file", str(bad)])
    _one_line_error(result, "Error:", str(bad), "not UTF-8", "line 1", "byte offset 3")


def test_similarity_file_in_utf16_with_a_bom_is_read(tmp_path: Path, monkeypatch) -> None:
    """UTF-16 with a BOM is text: the lines reach the model (stopped there, it is not needed)."""
    seen: list[list[str]] = []

    def fake_score_matrix(encoder: object, texts: list[str], **_: object) -> None:
        seen.append(texts)
        raise SystemExit(0)

    monkeypatch.setattr(explore_cmd, "load_model", lambda name: object())
    monkeypatch.setattr(explore_cmd, "score_matrix", fake_score_matrix)
    f = tmp_path / "u16.txt"
    f.write_bytes("naïve\n\nœuvre\n".encode("utf-16"))
    result = CliRunner().invoke(cli, ["similarity", "--file", str(f)])
    assert result.exit_code == 0, result.output
    assert seen == [["naïve", "œuvre"]]


def test_map_of_a_file_that_is_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "latin.txt"
    bad.write_bytes(LATIN1)
    result = CliRunner().invoke(cli, ["map", str(bad)])
    _one_line_error(result, "latin.txt", "not UTF-8", "line 1")


def test_map_of_a_csv_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "rows.csv"
    bad.write_bytes(b"text,label\nfine,a\nalso fine,b\ncaf\xe9,c\n")
    result = CliRunner().invoke(cli, ["map", str(bad)])
    _one_line_error(result, "rows.csv", "not UTF-8", "line 4", "byte offset 33")


def test_train_pairs_that_are_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "pairs.jsonl"
    bad.write_bytes(
        b'{"anchor": "a", "positive": "b"}\n' + b'{"anchor": "caf\xe9", "positive": "x"}\n'
    )
    for command in ("embedder", "reranker", "mine"):
        args = ["train", command, "--pairs", str(bad)]
        if command != "mine":
            args += ["--out", str(tmp_path / f"out-{command}")]
        result = CliRunner().invoke(cli, args)
        _one_line_error(result, "pairs.jsonl", "not UTF-8", "line 2")
        assert not (tmp_path / f"out-{command}").exists()


def test_st_folder_that_is_not_a_model_is_a_model_error() -> None:
    result = CliRunner().invoke(cli, ["embed", "x", "--model", "st:/etc"])
    _one_line_error(result, "/etc is not a sentence-transformers model folder")


def test_st_folder_with_a_foreign_config_is_a_model_error(tmp_path: Path) -> None:
    """A config.json sentence-transformers rejects (a ValueError inside it) becomes a ModelError."""
    (tmp_path / "config.json").write_text('{"hello": 1}')
    result = CliRunner().invoke(cli, ["embed", "x", "--model", f"st:{tmp_path}"])
    line = _one_line_error(result, "is not a sentence-transformers model folder")
    assert "model_type" in line  # sentence-transformers' reason is kept


def _boom(name: str) -> None:
    raise RuntimeError("something nobody foresaw\nsecond line")


def test_an_unexpected_error_is_one_line_with_the_command_and_a_log(
    monkeypatch, embedlab_home: Path
) -> None:
    monkeypatch.setattr(explore_cmd, "load_model", _boom)
    result = CliRunner().invoke(cli, ["embed", "hello"])
    line = _one_line_error(result, "embed failed unexpectedly", "RuntimeError", "--debug")
    assert "something nobody foresaw" in line and "second line" not in line
    log = embedlab_home / "logs" / "last-error.log"
    assert str(log) in line
    text = log.read_text()
    assert "Traceback" in text and "_boom" in text and "second line" in text


def test_the_command_path_of_a_subcommand_is_named(monkeypatch, tmp_path: Path) -> None:
    from embedlab.cli import train_cmd

    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(train_cmd, "explain_infonce", broken)
    monkeypatch.setattr("embedlab.models.load_model", lambda name: _Fake())
    result = CliRunner().invoke(cli, ["train", "infonce", "a", "b", "c"])
    _one_line_error(result, "train infonce failed unexpectedly", "ZeroDivisionError")


class _Fake:
    def embed(self, texts: list[str]) -> list[list[float]]:
        return [[1.0] for _ in texts]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_lets_the_traceback_through(monkeypatch, how: str) -> None:
    monkeypatch.setattr(explore_cmd, "load_model", _boom)
    args, env = (
        (["--debug", "embed", "hello"], {})
        if how == "flag"
        else (["embed", "hello"], {"EMBEDLAB_DEBUG": "1"})
    )
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)  # raised as is, not turned into a line


def test_ctrl_c_exits_130_with_a_short_line(monkeypatch) -> None:
    def interrupted(name: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(explore_cmd, "load_model", interrupted)
    result = CliRunner().invoke(cli, ["embed", "hello"])
    assert result.exit_code == 130
    assert result.output.strip() == "Interrupted."


def test_usage_errors_are_click_own() -> None:
    result = CliRunner().invoke(cli, ["similarity", "--metric", "nope", "a", "b"])
    assert result.exit_code == 2
    assert "Invalid value for '--metric'" in result.output
    assert "Usage:" in result.output


def test_a_real_process_with_debug_prints_the_traceback(tmp_path: Path) -> None:
    """Outside CliRunner, through Python's own handler: --debug shows the whole traceback."""
    bad = tmp_path / "latin.txt"
    bad.write_bytes(LATIN1)
    env = {**os.environ, "EMBEDLAB_DEBUG": ""}
    cmd = [sys.executable, "-c", "from embedlab.cli.main import cli; cli()"]
    debug = subprocess.run(
        [*cmd, "--debug", "similarity", "--file", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert debug.returncode == 1 and debug.stdout == ""
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.rstrip().splitlines()[-1].startswith("embedlab.errors.InputError: ")


def test_without_a_writable_home_the_line_still_says_how_to_see_the_traceback(
    monkeypatch, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "home"
    not_a_folder.write_text("a file where the home folder should be")
    monkeypatch.setenv("EMBEDLAB_HOME", str(not_a_folder))
    monkeypatch.setattr(explore_cmd, "load_model", _boom)
    line = _one_line_error(CliRunner().invoke(cli, ["embed", "hello"]), "RuntimeError", "--debug")
    assert "traceback in" not in line
