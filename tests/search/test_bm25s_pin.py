"""stores/keyword.py writes bm25s internals, so bm25s is pinned exactly in pyproject.toml:
the installed version is the pinned one, and the internals keyword.py touches are there."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import numpy as np

from embedlab.stores.keyword import BM25Index


def _pin() -> str:
    meta = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    (dep,) = [d for d in meta["project"]["dependencies"] if d.startswith("bm25s")]
    found = re.fullmatch(r"bm25s==([\w.]+)", dep)
    assert found, f"bm25s must be pinned exactly (==), not {dep!r}: keyword.py uses its internals"
    return found.group(1)


def test_installed_bm25s_is_the_pinned_one() -> None:
    assert version("bm25s") == _pin()


def test_the_internals_keyword_uses_are_there() -> None:
    index = BM25Index(["the cat sat on the mat", "dogs chase cats", "a mat of moss"])
    bm25 = index._bm25
    assert set(bm25.scores) >= {"data", "indices", "indptr", "num_docs"}
    assert isinstance(bm25.vocab_dict, dict) and bm25.unique_token_ids_set
    assert hasattr(bm25, "build_index_from_ids") and hasattr(bm25, "get_scores_from_ids")
    scores = index.get_scores("mat")
    assert scores.shape == (3,) and scores[0] > 0 and scores[1] == 0 and np.all(scores >= 0)
