"""One chunker for every model, by the model's own tokenizer (issue 12).

``minilm-int8`` (ONNX) used to be chunked by words because it had no ``model.tokenizer``:
about a quarter more chunks than ``minilm``, and chunks over the model's 256 tokens that
were cut without a word. Both models read the same WordPiece vocabulary, so they must cut a
text in exactly the same places, and no chunk may be longer than the chunk size.
"""

from __future__ import annotations

import pytest

from embedlab.data.demo_corpus import demo_documents
from embedlab.models import Encoder, load_model
from embedlab.stores.chunking import Chunker, ChunkSettings, TokenSpans


@pytest.fixture(scope="module")
def minilm_int8() -> Encoder:
    return load_model("minilm-int8")


def _texts() -> list[str]:
    prose = "\n\n".join(d["text"] for d in demo_documents())
    # words that split into many WordPiece tokens: ~0.6 words per token is far too many here
    codes = " ".join(f"run-{i:04d}x{i * 7919 % 9973:04d}q.log" for i in range(400))
    return [prose, codes, prose[:3000] + "\n\n" + codes[:4000]]


@pytest.mark.parametrize("by", ["tokens", "paragraph", "sentence"])
def test_minilm_and_its_int8_export_chunk_alike(
    minilm: Encoder, minilm_int8: Encoder, by: str
) -> None:
    settings = ChunkSettings(by, 128 if by == "tokens" else 256, 16 if by == "tokens" else 0)
    for text in _texts():
        a = Chunker(minilm, settings).chunks(text)
        b = Chunker(minilm_int8, settings).chunks(text)
        assert len(a) > 1
        assert a == b


@pytest.mark.parametrize("size", [64, 256])
def test_no_chunk_is_longer_than_the_chunk_size(
    minilm: Encoder, minilm_int8: Encoder, size: int
) -> None:
    for encoder in (minilm, minilm_int8):
        assert TokenSpans(encoder).exact, encoder.info.name
        chunker = Chunker(encoder, ChunkSettings("tokens", size, 8))
        for text in _texts():
            pieces = chunker.chunks(text)
            counts = encoder.count_tokens([p.text for p in pieces])
            assert counts is not None and max(counts) <= size, (encoder.info.name, max(counts))
            # the cut is not wasteful either: most chunks use most of the room
            assert sorted(counts)[len(counts) // 2] > size * 0.6


def test_token_spans_agree_with_the_embedding_tokenizer(
    minilm: Encoder, minilm_int8: Encoder
) -> None:
    """The spans are the tokens the model reads: as many as count_tokens minus the specials."""
    text = "Unbelievably, naïve café-goers re-tokenise URLs like https://x.io/a?b=1."
    for encoder in (minilm, minilm_int8):
        spans = encoder.token_spans(text)
        assert spans is not None
        overhead = encoder.count_tokens([""])[0]  # type: ignore[index]
        assert len(spans) == encoder.count_tokens([text])[0] - overhead  # type: ignore[index]
        assert all(text[a:b].strip() for a, b in spans)
    assert minilm.token_spans(text) == minilm_int8.token_spans(text)
