"""The explore commands through click's CliRunner, on the real models."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.models import Encoder


@pytest.fixture(scope="module")
def run(minilm: Encoder, glove: Encoder):  # noqa: ANN201 - a small helper
    runner = CliRunner()

    def invoke(*args: str):  # noqa: ANN202
        return runner.invoke(cli, list(args))

    return invoke


def test_embed_text_and_json(run) -> None:  # noqa: ANN001
    r = run("embed", "I love this movie")
    assert r.exit_code == 0, r.output
    assert "384 dims" in r.output and "6 tokens (limit 256): not truncated" in r.output
    assert "inference" in r.output and "model load" in r.output
    assert " 320-383" in r.output and any(ch in r.output for ch in "▁▂▃▄▅▆▇█")
    r = run("embed", "word " * 300, "--json")
    data = json.loads(r.stdout)
    assert data["truncated"] is True and data["tokens"] > data["max_tokens"] == 256
    assert len(data["vector"]) == 384 and data["stats"]["dims"] == 384


def test_embed_word_vectors_lists_unknown_words(run) -> None:  # noqa: ANN001
    r = run("embed", "the king of qqxxzz", "--model", "glove-50d")
    assert r.exit_code == 0, r.output
    assert "50 dims" in r.output and "qqxxzz" in r.output and "does not know" in r.output


def test_similarity_pair_and_matrix(run, tmp_path: Path) -> None:  # noqa: ANN001
    r = run("similarity", "I love this movie", "I hate this movie")
    assert r.exit_code == 0, r.output
    assert "cosine" in r.output and "unrelated pairs" in r.output and "percentile" in r.output
    r = run("similarity", "a red apple", "a green pear", "--metric", "euclidean", "--json")
    assert json.loads(r.stdout)["metric"] == "euclidean"
    texts = tmp_path / "texts.txt"
    texts.write_text("I love this movie\n\nI hate this movie\nThe cat sat on the mat\n")
    out = tmp_path / "m.csv"
    r = run("similarity", "--file", str(texts), "--csv", str(out))
    assert r.exit_code == 0, r.output
    assert "3 The cat sat on the mat" in r.output
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["text", "I love this movie", "I hate this movie", "The cat sat on the mat"]
    m = [[float(x) for x in row[1:]] for row in rows[1:]]
    assert m[0][0] == pytest.approx(1.0, abs=1e-5) and m[0][1] > m[0][2]
    assert json.loads(run("similarity", "--file", str(texts), "--json").stdout)["matrix"][1][
        0
    ] == pytest.approx(m[1][0], abs=1e-5)


def test_compare_text_and_file(run, tmp_path: Path) -> None:  # noqa: ANN001
    r = run("compare", "I love this movie", "--models", "minilm,glove-50d")
    assert r.exit_code == 0, r.output
    assert "minilm" in r.output and "glove-50d" in r.output and "L2 norm" in r.output
    texts = tmp_path / "t.txt"
    texts.write_text(
        "I love this movie\nI hate this movie\nThe cat sat on the mat\nA kitten naps\n"
    )
    r = run("compare", "--file", str(texts), "--models", "minilm,glove-50d", "-k", "1")
    assert r.exit_code == 0, r.output
    assert "spearman" in r.output and "most disagreement first" in r.output
    data = json.loads(
        run("compare", "--file", str(texts), "--models", "minilm,glove-50d", "--json").stdout
    )
    assert set(data["matrices"]) == {"minilm", "glove-50d"} and len(data["by_text"]) == 4


def test_analogy(run) -> None:  # noqa: ANN001
    r = run("analogy", "king", "man", "woman", "--expected", "queen")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "king - man + woman" in lines[0] and "glove-50d" in lines[0]
    assert any(line.startswith("1") and "queen" in line for line in lines)
    assert "expected 'queen': rank 1" in r.output
    data = json.loads(
        run(
            "analogy",
            "king",
            "man",
            "woman",
            "--keep-inputs",
            "--method",
            "3cosmul",
            "-k",
            "3",
            "--json",
        ).stdout
    )
    assert data["candidates"][0]["text"] == "queen" and len(data["candidates"]) == 3
    assert data["method"] == "3cosmul" and data["excluded"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("embed", ""), "empty or only whitespace"),
        (("embed", "   "), "empty or only whitespace"),
        (("embed", "hi", "--model", "no-such-model"), "Unknown model 'no-such-model'"),
        (("embed", "word " * 300, "--no-truncate"), "has 302 tokens; minilm reads at most 256"),
        (("similarity", "only one"), "Give two texts"),
        (("similarity", "--file", "/no/such/file.txt"), "does not exist"),
        (("compare", "x", "--models", "minilm"), "two or more models"),
        (("analogy", "king", "man", "qqxxzz"), "not in the vocabulary"),
        (("similarity", "a", "b", "--metric", "manhattan"), "manhattan"),
    ],
)
def test_errors_exit_nonzero_with_a_message(run, args: tuple[str, ...], message: str) -> None:  # noqa: ANN001
    r = run(*args)
    assert r.exit_code != 0
    assert message in r.output
    assert "Traceback" not in r.output
