"""Backends plug in through the ``embedlab.models`` entry point group: a package installed
on ``sys.path`` (a real dist-info folder that importlib.metadata discovers) adds a prefix
without editing the registry, and embedlab's own prefixes go through the same table."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from embedlab.errors import UnknownModelError
from embedlab.models import load_model
from embedlab.models.registry import PREFIXES, backends, clear_cache, known_names
from embedlab.plugins import MODELS_GROUP, entry_point_table

#: a third-party backend: feature-hashed bags of words (a real, if crude, encoder).
TOY_MODULE = """
import zlib

import numpy as np

from embedlab.models.base import Encoder, ModelInfo


class HashedWords(Encoder):
    def __init__(self, dims):
        self.info = ModelInfo(name=f"toy:{dims}", dims=dims, max_tokens=None,
                              normalized=True, backend="toy plugin")

    def _embed(self, texts, role):
        out = np.zeros((len(texts), self.info.dims), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, zlib.crc32(word.encode()) % self.info.dims] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def load_toy(argument, **options):
    return HashedWords(int(argument))
"""


@pytest.fixture()
def toy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``embedlab_toy`` installed the way pip would: a module and its dist-info folder."""
    (tmp_path / "embedlab_toy.py").write_text(TOY_MODULE)
    info = tmp_path / "embedlab_toy-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: embedlab-toy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [embedlab.models]
            toy = embedlab_toy:load_toy
            st = embedlab_toy:load_toy
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("embedlab_toy", None)
    clear_cache()


def test_unknown_prefix_lists_what_is_registered() -> None:
    with pytest.raises(UnknownModelError) as err:
        load_model("toy:64")
    assert "toy:<model>" not in str(err.value)
    assert all(f"{p}:<model>" in str(err.value) for p in PREFIXES)


def test_a_plugin_adds_a_prefix(toy_package: Path) -> None:
    assert "toy:<model>" in known_names()
    model = load_model("toy:64")
    assert type(model).__module__ == "embedlab_toy" and model.info.dims == 64
    v = model.embed(["red apples and green apples", "green apples"])
    assert v.shape == (2, 64) and np.allclose(np.linalg.norm(v, axis=1), 1.0)
    assert float(v[0] @ v[1]) > 0.5  # they share words
    # a plugin never replaces a built-in prefix
    assert backends()["st"].value == PREFIXES["st"]
    assert entry_point_table(MODELS_GROUP)["toy"].value == "embedlab_toy:load_toy"


def test_builtins_are_declared_as_entry_points() -> None:
    """pyproject.toml declares embedlab's own prefixes in the group (after `make install`),
    the same loaders as the in-code table."""
    declared = {
        ep.name: ep.value
        for ep in entry_points(group=MODELS_GROUP)
        if ep.value.startswith("embedlab.")
    }
    assert declared == PREFIXES
