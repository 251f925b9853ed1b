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


def _manual_scores(folder: Path, query: str, passages: list[str]) -> np.ndarray:
    """The reference, computed without sentence-transformers: the folder's sequence
    classifier run by transformers on (query, passage) pairs, then a sigmoid (what a
    one-label cross-encoder outputs)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    batch = tok([query] * len(passages), passages, padding=True, truncation=True,
                return_tensors="pt")  # fmt: skip
    with torch.no_grad():
        logits = model(**batch).logits[:, 0]
    return torch.sigmoid(logits).numpy().astype(np.float32)


def test_reranker_scores_like_a_manual_forward_pass(cross_encoder_folder: Path) -> None:
    reranker = load_reranker(str(cross_encoder_folder))
    assert reranker.name == str(cross_encoder_folder)
    query = "where do cats sit?"
    passages = ["A cat sits on a mat.", "Stocks fell on Tuesday.", "Cats like to sleep."]
    scores = reranker.score(query, passages)
    assert scores.dtype == np.float32 and scores.shape == (3,)
    ref = _manual_scores(cross_encoder_folder, query, passages)
    np.testing.assert_allclose(scores, ref, atol=1e-5)
    assert np.ptp(ref) > 1e-4  # the passages score differently, so the order is checked too
    assert load_reranker(str(cross_encoder_folder)) is reranker  # cached per process
    assert reranker.score("q", []).shape == (0,)
    with pytest.raises(EmptyInputError):
        reranker.score("  ", passages)


def test_missing_reranker_folder_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="local folder"):
        load_reranker(str(tmp_path / "no-such-reranker"))
