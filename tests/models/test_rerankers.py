"""Cross-encoder rerankers from a local folder (no package ships a trained one: build one here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedlab.errors import EmptyInputError, ModelError
from embedlab.models.paths import minilm_folder
from embedlab.models.rerankers import load_reranker


@pytest.fixture(scope="module")
def cross_encoder_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cross-encoder made from the MiniLM weights (untrained head) and saved to a folder."""
    from sentence_transformers import CrossEncoder

    folder = tmp_path_factory.mktemp("reranker") / "minilm-ce"
    CrossEncoder(str(minilm_folder()), num_labels=1, device="cpu").save(str(folder))
    return folder


def test_reranker_scores_like_cross_encoder_predict(cross_encoder_folder: Path) -> None:
    reranker = load_reranker(str(cross_encoder_folder))
    assert reranker.name == str(cross_encoder_folder)
    passages = ["A cat sits on a mat.", "Stocks fell on Tuesday.", "Cats like to sleep."]
    scores = reranker.score("where do cats sit?", passages)
    assert scores.dtype == np.float32 and scores.shape == (3,)
    ref = reranker.model.predict([("where do cats sit?", p) for p in passages])  # type: ignore[attr-defined]
    assert np.allclose(scores, np.asarray(ref, dtype=np.float32), atol=1e-6)
    assert load_reranker(str(cross_encoder_folder)) is reranker  # cached per process
    assert reranker.score("q", []).shape == (0,)
    with pytest.raises(EmptyInputError):
        reranker.score("  ", passages)


def test_missing_reranker_folder_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="local folder"):
        load_reranker(str(tmp_path / "no-such-reranker"))
