"""Token-aware chunking with MiniLM's own tokenizer: limits, overlap, boundaries, modes."""

from __future__ import annotations

import re

import pytest

from embedlab.data import news_articles
from embedlab.errors import InputError
from embedlab.models import Encoder
from embedlab.stores.chunking import Chunker, ChunkSettings, split_tokens


@pytest.fixture(scope="module")
def long_text() -> str:
    return "\n\n".join(a.text for a in news_articles(limit=6))


@pytest.mark.parametrize(("size", "overlap"), [(256, 32), (64, 16), (32, 0)])
def test_token_chunks_respect_limit_and_overlap(
    minilm: Encoder, long_text: str, size: int, overlap: int
) -> None:
    chunker = Chunker(minilm, ChunkSettings("tokens", size, overlap))
    pieces = chunker.chunks(long_text)
    counts = minilm.count_tokens([p.text for p in pieces])
    assert counts is not None and len(pieces) > 3
    assert max(counts) <= size  # special tokens included
    assert sum(counts) > 0.6 * len(pieces) * size  # chunks are filled, not tiny
    for a, b in zip(pieces, pieces[1:], strict=False):
        assert long_text[a.start : a.end].strip() == a.text
        shared = long_text[b.start : a.end] if b.start < a.end else ""
        n_shared = len(minilm.count_tokens([shared])) and minilm.count_tokens([shared])[0] - 2
        if overlap:
            assert 0 < n_shared <= overlap + 2
        else:
            assert b.start >= a.end
    # every word of the text is in some chunk
    covered = set()
    for p in pieces:
        covered.update(range(p.start, p.end))
    words = [m.start() for m in re.finditer(r"\S+", long_text)]
    assert all(w in covered for w in words)


def test_cuts_prefer_sentence_ends(minilm: Encoder, long_text: str) -> None:
    pieces = Chunker(minilm, ChunkSettings("tokens", 128, 0)).chunks(long_text)
    ends = [p.text.rstrip()[-1] for p in pieces[:-1]]
    assert sum(e in ".!?\"'”" for e in ends) >= 0.8 * len(ends)


def test_chunk_size_is_capped_at_model_limit(minilm: Encoder) -> None:
    chunker = Chunker(minilm, ChunkSettings("tokens", 10_000, 32))
    assert chunker.settings.chunk_tokens == minilm.info.max_tokens == 256


def test_paragraph_and_sentence_modes(minilm: Encoder) -> None:
    text = "First sentence here. Second one!\n\nA new paragraph? Yes.\n\n\n  Third paragraph.  "
    paras = Chunker(minilm, ChunkSettings("paragraph")).chunks(text)
    assert [p.text for p in paras] == [
        "First sentence here. Second one!",
        "A new paragraph? Yes.",
        "Third paragraph.",
    ]
    assert all(text[p.start : p.end] == p.text for p in paras)
    sents = Chunker(minilm, ChunkSettings("sentence")).chunks(text)
    assert [s.text for s in sents] == [
        "First sentence here.",
        "Second one!",
        "A new paragraph?",
        "Yes.",
        "Third paragraph.",
    ]


def test_long_paragraph_is_split_by_tokens(minilm: Encoder, long_text: str) -> None:
    one_para = " ".join(long_text.split())
    pieces = Chunker(minilm, ChunkSettings("paragraph", 64, 0)).chunks(one_para)
    counts = minilm.count_tokens([p.text for p in pieces])
    assert counts is not None and len(pieces) > 5 and max(counts) <= 64


def test_without_a_tokenizer_words_stand_in(long_text: str) -> None:
    chunker = Chunker(None, ChunkSettings("tokens", 100, 10))
    pieces = chunker.chunks(long_text)
    assert pieces and max(len(p.text.split()) for p in pieces) <= 60


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (ChunkSettings("words"), "Unknown chunking 'words'"),
        (ChunkSettings("tokens", 4), "too small"),
        (ChunkSettings("tokens", 64, 40), "--overlap 40"),
    ],
)
def test_bad_settings(minilm: Encoder, settings: ChunkSettings, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Chunker(minilm, settings)


def test_sentence_mode_keeps_closing_quotes_and_brackets() -> None:
    """A quote or bracket closing a sentence stays in its chunk (it was cut out of both)."""
    text = 'He said "hi." Then he left. (It was late.) Fine'
    sents = Chunker(None, ChunkSettings("sentence")).chunks(text)
    assert [s.text for s in sents] == ['He said "hi."', "Then he left.", "(It was late.)", "Fine"]
    assert all(text[s.start : s.end] == s.text for s in sents)


def test_overlap_never_yields_a_chunk_inside_the_previous_one() -> None:
    """With overlap, a word longer than the window after the overlap gave a third chunk
    holding only the previous chunk's last token ("0", inside "0 0")."""
    text = "0 0 00000000 "  # MiniLM's tokens: 0 | 0 | 000 ##00 ##00 ##0
    spans = [(0, 1), (2, 3), (4, 7), (7, 9), (9, 11), (11, 12)]
    pieces = list(split_tokens(text, spans, 4, 1))
    assert [(p.text, p.start, p.end) for p in pieces] == [("0 0", 0, 3), ("00000000", 4, 12)]
