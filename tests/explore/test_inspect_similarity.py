"""inspect_texts, vector_picture, score_pair/score_matrix and the calibration, on real MiniLM."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import EmptyInputError, InputError
from embedlab.explore.calibration import BACKGROUND, calibration_for
from embedlab.explore.inspect import inspect_texts, vector_picture
from embedlab.explore.similarity import score_matrix, score_pair
from embedlab.models import Encoder
from embedlab.vectors import cosine_matrix, vector_stats


def test_inspect_reports_vector_stats_tokens_and_times(minilm: Encoder) -> None:
    long_text = "embedding " * 400
    short, long = inspect_texts(minilm, ["I love this movie", long_text])
    np.testing.assert_allclose(short.vector, minilm.embed("I love this movie")[0], atol=1e-5)
    assert short.stats == vector_stats(short.vector)
    assert short.stats.dims == 384 and abs(short.stats.l2_norm - 1) < 1e-4
    assert short.tokens == 6 and not short.truncated  # [CLS] i love this movie [SEP]
    assert "not truncated" in short.token_note
    assert long.max_tokens == 256 and long.tokens is not None and long.tokens > 256
    assert long.truncated and "TRUNCATED" in long.token_note and str(long.tokens) in long.token_note
    assert short.seconds > 0 and short.load_seconds == minilm.load_seconds
    d = short.to_dict()
    assert len(d["vector"]) == 384 and d["tokens"] == 6  # type: ignore[arg-type]


def test_inspect_refuses_empty_text(minilm: Encoder) -> None:
    with pytest.raises(EmptyInputError, match="empty or only whitespace"):
        inspect_texts(minilm, "   ")


def test_vector_picture_rows_and_signs() -> None:
    v = np.zeros(70, dtype=np.float32)
    v[0], v[1], v[65] = 1.0, -1.0, 0.5
    rows = vector_picture(v, width=64)
    assert [(r.first_dim, r.last_dim) for r in rows] == [(0, 63), (64, 69)]
    assert rows[0].positive[0] == "█" and rows[0].negative[0] == " "
    assert rows[0].negative[1] == "█" and rows[0].positive[1] == " "
    assert rows[1].positive[1] == "▄" and rows[1].positive[0] == " "
    assert all(len(r.positive) == len(r.negative) for r in rows)


def test_love_hate_closer_than_unrelated(minilm: Encoder) -> None:
    love_hate = score_pair(minilm, "I love this movie", "I hate this movie")
    love_cat = score_pair(minilm, "I love this movie", "The cat sat on the mat")
    assert love_hate.cosine > love_cat.cosine + 0.3


def test_calibration_percentiles(minilm: Encoder) -> None:
    cal = calibration_for(minilm)
    n = len(BACKGROUND)
    assert len(cal.scores) == n * (n - 1) // 2 and cal.fingerprint == minilm.info.fingerprint
    assert calibration_for(minilm) is cal  # cached per fingerprint
    para = score_pair(
        minilm, "How do I reset my password?", "What are the steps to change my password?"
    )
    unrelated = score_pair(
        minilm, "The stock market fell today", "My grandmother knits warm sweaters"
    )
    assert para.percentile > 95, para
    assert unrelated.percentile < 80, unrelated
    assert "unrelated" in para.reading


def test_score_pair_metrics_and_matrix(minilm: Encoder) -> None:
    cos = score_pair(minilm, "a red apple", "a green pear")
    dot = score_pair(minilm, "a red apple", "a green pear", metric="dot")
    euc = score_pair(minilm, "a red apple", "a green pear", metric="euclidean")
    assert dot.score == pytest.approx(cos.score, abs=1e-5)  # MiniLM vectors are unit length
    assert euc.score == pytest.approx(np.sqrt(2 - 2 * cos.score), abs=1e-4)
    assert euc.percentile == cos.percentile  # the reading is always of the cosine
    with pytest.raises(InputError, match="Unknown metric"):
        score_pair(minilm, "a", "b", metric="manhattan")
    texts = ["a red apple", "a green pear", "the stock market"]
    m = score_matrix(minilm, texts)
    np.testing.assert_allclose(m.matrix, cosine_matrix(minilm.embed(texts)), atol=1e-5)
    np.testing.assert_allclose(np.diag(m.matrix), 1.0, atol=1e-5)


def test_calibration_reads_e5s_narrow_band() -> None:
    """E5 scores unrelated texts ~0.76: raw it looks related, calibrated it reads as unrelated."""
    from embedlab.models import load_model

    e5 = load_model("e5-multilingual")
    unrelated = score_pair(e5, "The stock market fell today", "My grandmother knits warm sweaters")
    para = score_pair(
        e5, "How do I reset my password?", "What are the steps to change my password?"
    )
    assert unrelated.cosine > 0.6 and unrelated.percentile < 80
    assert para.percentile > 95
    assert calibration_for(e5).summary()["p50"] > 0.6  # the band is narrow and high
