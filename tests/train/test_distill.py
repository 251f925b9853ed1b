"""``embedlab train distill`` and its bad input: what cannot be distilled, an existing
output folder, a vocabulary file that is empty or not text. One real (small) distillation
through the CLI; every refusal happens before model2vec loads anything."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.errors import TrainingError
from embedlab.models import load_model
from embedlab.train.distill import base_folder, cached_static, distill_static, read_vocabulary


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("glove-50d", "GloVe"),
        ("minilm-int8", "ONNX"),
        ("ollama:nomic-embed-text", "ollama model"),
        ("/nonexistent/folder", "no model folder"),
    ],
)
def test_bases_that_cannot_be_distilled_say_which_can(base: str, message: str) -> None:
    with pytest.raises(TrainingError, match=message) as err:
        base_folder(base)
    assert "sentence-transformers bi-encoder: minilm, mpnet, st:<folder>" in str(err.value)


def test_folders_that_are_not_sentence_transformers_models(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(TrainingError, match="not a sentence-transformers model"):
        base_folder(f"st:{plain}")
    cross = tmp_path / "cross"
    cross.mkdir()
    (cross / "config.json").write_text('{"architectures": ["BertForSequenceClassification"]}')
    with pytest.raises(TrainingError, match="cross-encoder"):
        base_folder(str(cross))
    static = tmp_path / "static"
    static.mkdir()
    for name in ("model.safetensors", "tokenizer.json"):
        (static / name).write_bytes(b"x")
    (static / "config.json").write_text('{"model_type": "model2vec"}')
    with pytest.raises(TrainingError, match="already a static model"):
        base_folder(str(static))
    assert base_folder("minilm").joinpath("modules.json").is_file()


def test_an_existing_output_folder_is_refused_without_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(TrainingError, match="--overwrite"):
        distill_static("minilm", out, vocabulary=["cat"], vocabulary_only=True)
    assert (out / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_vocabulary_files(tmp_path: Path) -> None:
    good = tmp_path / "words.txt"
    good.write_text("cat\n\n dog \ncat\nbank\n", encoding="utf-8")
    assert read_vocabulary(good) == ["cat", "dog", "bank"]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(TrainingError, match="holds no word"):
        read_vocabulary(empty)
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00")
    with pytest.raises(TrainingError, match="not UTF-8 text"):
        read_vocabulary(binary)
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"cat\x00dog\n")
    with pytest.raises(TrainingError, match="binary"):
        read_vocabulary(nul)
    with pytest.raises(TrainingError, match="vocabulary is empty"):
        distill_static("minilm", tmp_path / "x", vocabulary=[])


def test_cli_refusals_are_messages_not_tracebacks(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    for args, message in [
        (["--base", "glove-50d"], "cannot be distilled"),
        (["--vocabulary", str(empty)], "holds no word"),
    ]:
        r = runner.invoke(cli, ["train", "distill", "--out", str(tmp_path / "o"), *args])
        assert r.exit_code != 0
        assert message in r.output and "Traceback" not in r.output


def test_cli_distils_a_small_model_over_an_existing_folder(tmp_path: Path) -> None:
    out = tmp_path / "m2v"
    out.mkdir()
    (out / "old.txt").write_text("old", encoding="utf-8")
    words = tmp_path / "words.txt"
    words.write_text("cat\ndog\nbank\nriver\nmoney\n", encoding="utf-8")
    args = ["train", "distill", "--base", "minilm", "--out", str(out), "--pca-dims", "4",
            "--vocabulary", str(words), "--vocabulary-only", "--overwrite", "--json"]  # fmt: skip
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["out"] == str(out) and data["dims"] == 4 and data["vocabulary_words"] == 5
    assert not (out / "old.txt").exists()
    enc = load_model(f"static:{out}")
    assert enc.info.fingerprint == data["fingerprint"]
    assert enc.embed(["river bank", "money"]).shape == (2, 4)


def _fake_build(calls: list[int], fail: bool = False):  # noqa: ANN202 - a small helper
    """A build that writes a model2vec-shaped folder aside and renames it into place."""

    def build(out: Path) -> None:
        calls.append(1)
        time.sleep(0.3)  # long enough for the second thread to reach the lock
        if fail:
            raise RuntimeError("build failed")
        tmp = out.with_name(f".{out.name}.partial-{len(calls)}")
        tmp.mkdir()
        (tmp / "model.safetensors").write_bytes(b"x")
        (tmp / "tokenizer.json").write_text("{}")
        (tmp / "config.json").write_text('{"model_type": "model2vec"}')
        os.replace(tmp, out)

    return build


def test_cached_static_builds_once_for_concurrent_callers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path / "home"))
    models = tmp_path / "home" / "cache" / "models"
    models.mkdir(parents=True)
    (models / ".m.partial-999").mkdir()  # left by a killed build
    calls: list[int] = []
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(cached_static, "m", _fake_build(calls), None) for _ in range(2)]
        paths = {f.result() for f in futures}
    assert paths == {models / "m"} and len(calls) == 1
    assert not (models / ".m.partial-999").exists()
    assert cached_static("m", _fake_build(calls), None) == models / "m" and len(calls) == 1


def test_a_failed_build_leaves_nothing_and_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path / "home"))
    calls: list[int] = []
    with pytest.raises(RuntimeError):
        cached_static("m", _fake_build(calls, fail=True), None)
    assert not (tmp_path / "home" / "cache" / "models" / "m").exists()
    assert cached_static("m", _fake_build(calls), None).is_dir() and len(calls) == 2
