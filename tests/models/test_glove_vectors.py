"""GloVe 6B 50d and the WordVectors table: analogies, unknown words, saving and loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedlab.errors import EmptyInputError, InputError, ModelError
from embedlab.models import load_model
from embedlab.models.glove import WordVectors


def _analogy(wv: WordVectors, a: str, b: str, c: str, k: int = 5) -> list[str]:
    """3CosAdd with plain numpy: a - b + c over unit vectors, inputs excluded."""
    unit = np.asarray(wv.matrix, dtype=np.float32)
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    target = unit[wv.index[a]] - unit[wv.index[b]] + unit[wv.index[c]]
    scores = unit @ (target / np.linalg.norm(target))
    for w in (a, b, c):
        scores[wv.index[w]] = -np.inf
    return [wv.words[i] for i in np.argsort(-scores)[:k]]


def test_glove_table_shape_and_info(glove: WordVectors) -> None:
    assert isinstance(glove, WordVectors)
    assert len(glove.words) == 400_000 and glove.matrix.shape == (400_000, 50)
    assert glove.matrix.dtype == np.float32
    assert glove.index["the"] == 0 and glove.words[glove.index["queen"]] == "queen"
    assert glove.info.kind == "word" and glove.info.dims == 50 and not glove.info.normalized


def test_king_minus_man_plus_woman_is_queen(glove: WordVectors) -> None:
    assert _analogy(glove, "king", "man", "woman")[0] == "queen"
    assert _analogy(glove, "paris", "france", "germany")[0] == "berlin"


def test_text_is_mean_of_known_word_vectors(glove: WordVectors) -> None:
    v = glove.embed("The Cat, sat!")
    expected = np.mean([glove.matrix[glove.index[w]] for w in ("the", "cat", "sat")], axis=0)
    assert v.shape == (1, 50) and np.allclose(v[0], expected, atol=1e-6)
    assert glove.count_tokens(["The Cat, sat!"]) == [3]


def test_unknown_words_are_reported(glove: WordVectors) -> None:
    assert glove.unknown_words("the zzxqvy cat blorptastic zzxqvy") == ["zzxqvy", "blorptastic"]
    # a text with one known word still embeds (unknown words are skipped)
    assert glove.embed("cat zzxqvy").shape == (1, 50)
    with pytest.raises(InputError, match="zzxqvy.*blorptastic"):
        glove.embed("zzxqvy blorptastic")
    with pytest.raises(EmptyInputError):
        glove.embed("   ")


def test_save_load_round_trip_and_words_prefix(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "déjà", "rock-n-roll"]
    matrix = rng.normal(size=(5, 8)).astype(np.float32)
    wv = WordVectors.from_arrays("tiny", words, matrix)
    folder = wv.save(tmp_path / "tiny")
    assert (folder / "vectors.npy").is_file() and (folder / "words.txt").is_file()

    back = WordVectors.load(folder)
    assert back.words == words and np.array_equal(np.asarray(back.matrix), matrix)
    assert np.allclose(back.embed("alpha gamma")[0], matrix[[0, 2]].mean(axis=0))
    assert back.embed("Déjà")[0].tolist() == matrix[3].tolist()

    opened = load_model(f"words:{folder}")
    assert isinstance(opened, WordVectors) and opened.info.kind == "word"
    assert opened.info.name == f"words:{folder}" and opened.words == words
    assert opened.info.fingerprint == back.info.fingerprint


def test_bad_tables_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="one row per word"):
        WordVectors.from_arrays("bad", ["a", "b"], np.zeros((3, 4)))
    with pytest.raises(InputError, match="duplicate"):
        WordVectors.from_arrays("bad", ["a", "a"], np.zeros((2, 4)))
    with pytest.raises(ModelError, match="vectors.npy"):
        load_model(f"words:{tmp_path / 'nothing-here'}")
