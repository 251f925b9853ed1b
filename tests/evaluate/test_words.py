"""Word benchmarks equal gensim's: GloVe 50d and a word2vec model trained here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors, Word2Vec

from embedlab.data import gensim_test_file
from embedlab.errors import DatasetError, InputError
from embedlab.evaluate.words import evaluate_analogies, evaluate_word_pairs
from embedlab.models.glove import WordVectors

VOCAB = 20000
SECTIONS = ("capital-common-countries", "family", "gram3-comparative", "gram8-plural")


@pytest.fixture(scope="module")
def glove_small(glove) -> WordVectors:
    return WordVectors.from_arrays("glove-20k", glove.words[:VOCAB], glove.matrix[:VOCAB])


@pytest.fixture(scope="module")
def glove_kv(glove_small) -> KeyedVectors:
    kv = KeyedVectors(glove_small.matrix.shape[1])
    kv.add_vectors(list(glove_small.words), glove_small.matrix)
    return kv


@pytest.fixture(scope="module")
def questions(tmp_path_factory) -> Path:
    """questions-words.txt cut to a few sections (the whole file takes gensim ~20 s)."""
    out, keep = [], False
    for line in gensim_test_file("questions-words.txt").read_text().splitlines():
        if line.startswith(": "):
            keep = line[2:].strip() in SECTIONS
        if keep:
            out.append(line)
    path = tmp_path_factory.mktemp("analogies") / "questions.txt"
    path.write_text("\n".join(out) + "\n")
    return path


def assert_same_sections(ours, gensim_sections) -> None:
    assert [s.section for s in ours.sections] == [s["section"] for s in gensim_sections]
    for mine, ref in zip(ours.sections, gensim_sections, strict=True):
        assert (mine.correct, mine.incorrect) == (len(ref["correct"]), len(ref["incorrect"])), (
            mine.section
        )


def test_glove_analogies_equal_gensim(glove_small, glove_kv, questions) -> None:
    score, sections = glove_kv.evaluate_word_analogies(str(questions), restrict_vocab=8000)
    ours = evaluate_analogies(glove_small, questions, restrict_vocab=8000)
    assert_same_sections(ours, sections)
    assert ours.accuracy == pytest.approx(score)
    assert ours.oov > 0 and ours.accuracy > 0.4  # restriction drops questions, GloVe solves many


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_glove_3cosmul_equals_gensim_cosmul(glove_small, glove_kv) -> None:
    """gensim's evaluator has no 3CosMul: replay its loop with most_similar_cosmul."""
    lines = gensim_test_file("questions-words.txt").read_text().splitlines()
    qs = [ln.upper().split() for ln in lines[1:160:3] if not ln.startswith(":")]
    correct = 0
    ok = {w.upper(): glove_kv.get_index(w) for w in reversed(glove_kv.index_to_key)}
    for a, b, c, expected in qs:
        old, glove_kv.key_to_index = glove_kv.key_to_index, ok
        sims = glove_kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=5)
        glove_kv.key_to_index = old
        predicted = next(
            (w.upper() for w, _ in sims if w.upper() not in {a, b, c}), sims[-1][0].upper()
        )
        correct += predicted == expected
    path = questions_file(qs)
    ours = evaluate_analogies(glove_small, path, restrict_vocab=VOCAB, method="3cosmul")
    assert ours.sections[-1].correct == correct and ours.oov == 0


def questions_file(qs: list[list[str]]) -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "q.txt"
    path.write_text(": sample\n" + "\n".join(" ".join(q) for q in qs) + "\n")
    return path


def test_glove_word_pairs_equal_gensim(glove_small, glove_kv) -> None:
    path = gensim_test_file("wordsim353.tsv")
    pearson, spearman, oov_ratio = glove_kv.evaluate_word_pairs(str(path))
    ours = evaluate_word_pairs(glove_small, path)
    assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-9)
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-9)
    assert ours.oov_ratio == pytest.approx(oov_ratio)
    assert ours.pairs + ours.oov == 353


def test_trained_word2vec_equals_gensim(tmp_path: Path) -> None:
    text = gensim_test_file("lee_background.cor").read_text().lower().splitlines()
    sentences = [line.split() for line in text]
    model = Word2Vec(sentences, vector_size=32, min_count=3, epochs=3, workers=1, seed=3)
    wv = WordVectors.from_arrays("w2v-lee", list(model.wv.index_to_key), model.wv.vectors)
    questions = gensim_test_file("questions-words.txt")
    score, sections = model.wv.evaluate_word_analogies(str(questions), restrict_vocab=3000)
    ours = evaluate_analogies(wv, questions, restrict_vocab=3000)
    assert_same_sections(ours, sections)
    pearson, spearman, oov_ratio = model.wv.evaluate_word_pairs(
        str(gensim_test_file("wordsim353.tsv"))
    )
    pairs = evaluate_word_pairs(wv, gensim_test_file("wordsim353.tsv"))
    assert pairs.spearman == pytest.approx(spearman.statistic, abs=1e-9)
    assert pairs.oov_ratio == pytest.approx(oov_ratio) and pairs.oov > 0


def test_bad_inputs(glove_small, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="3cosadd"):
        evaluate_analogies(glove_small, gensim_test_file("questions-words.txt"), method="cos")
    with pytest.raises(InputError, match="sentence models have no vocabulary"):
        evaluate_analogies(object(), gensim_test_file("questions-words.txt"))
    bad = tmp_path / "bad.txt"
    bad.write_text("athens greece baghdad iraq\n")
    with pytest.raises(DatasetError, match=r"bad.txt:1: expected a section header"):
        evaluate_analogies(glove_small, bad)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("zzqx\tqqzz\t3.0\nbroken line\n")
    with pytest.raises(DatasetError, match="1 pairs had unknown words, 1 lines were malformed"):
        evaluate_word_pairs(glove_small, pairs)
    assert np.isfinite(glove_small.matrix).all()
