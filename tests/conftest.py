"""Shared fixtures: one real model per test run, and a private embedlab home per test session.

No test touches the network: models come from installed packages, data from gensim's test
files or the cache ``make data`` fills.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedlab.models import Encoder, load_model

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

#: screenshots and other artefacts tests leave for people to look at.
TEST_OUTPUT = Path(__file__).resolve().parent.parent / "test-output"


@pytest.fixture(scope="session", autouse=True)
def embedlab_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point EMBEDLAB_HOME at a temporary folder so tests never touch the user's data."""
    home = tmp_path_factory.mktemp("embedlab-home")
    old = os.environ.get("EMBEDLAB_HOME")
    os.environ["EMBEDLAB_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("EMBEDLAB_HOME", None)
    else:
        os.environ["EMBEDLAB_HOME"] = old


@pytest.fixture(scope="session")
def minilm() -> Encoder:
    """The bundled default model, loaded once for the whole run."""
    return load_model("minilm")


@pytest.fixture(scope="session")
def glove() -> Encoder:
    """GloVe 6B 50d word vectors, loaded once for the whole run."""
    return load_model("glove-50d")


@pytest.fixture(scope="session")
def test_output() -> Path:
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT
