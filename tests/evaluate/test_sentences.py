"""Lee document similarity: the human matrix is read as gensim's test reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from embedlab.data import gensim_test_file
from embedlab.errors import DatasetError
from embedlab.evaluate.cache import embed_cached
from embedlab.evaluate.sentences import evaluate_document_similarity, read_lee


def test_read_lee_like_gensim() -> None:
    docs, sims = read_lee()
    assert len(docs) == 50 and sims.shape == (50, 50)
    human = np.loadtxt(gensim_test_file("similarities0-1.txt"))
    assert len(human[np.triu_indices(50, 1)]) == 1225
    assert "Brian Greig" in docs[0]


def test_minilm_on_lee(minilm) -> None:
    res = evaluate_document_similarity(minilm)
    docs, human = read_lee()
    v = embed_cached(minilm, docs, "document").vectors  # the vectors the evaluation cached
    assert np.allclose(v[:2], minilm.embed(docs[:2]), atol=1e-5)
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    iu = np.triu_indices(50, 1)
    expected = stats.pearsonr((v @ v.T)[iu], human[iu])[0]
    assert res.pearson == pytest.approx(expected, abs=1e-5)
    assert res.pairs == 1225 and res.pearson > 0.5  # gensim's LSI baseline is about 0.6


def test_bad_matrix(tmp_path: Path, glove) -> None:
    (tmp_path / "d.txt").write_text("one doc\nanother doc\n")
    (tmp_path / "s.txt").write_text("1 0.5\n0.5 1\n0.1 0.1\n")
    with pytest.raises(DatasetError, match="not square"):
        evaluate_document_similarity(glove, tmp_path / "d.txt", tmp_path / "s.txt")
    (tmp_path / "s.txt").write_text("1 0.5 0.2\n0.5 1 0.2\n0.2 0.2 1\n")
    with pytest.raises(DatasetError, match="rates 3 documents but"):
        evaluate_document_similarity(glove, tmp_path / "d.txt", tmp_path / "s.txt")
