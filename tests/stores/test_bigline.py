"""A file with no newline is read in bounded pieces, and chunked as if it were read whole."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from embedlab.data import news_articles
from embedlab.data.text import bounded_lines, open_text
from embedlab.models import Encoder
from embedlab.stores import create_index, drop_index, ingest
from embedlab.stores.chunking import Chunker, ChunkSettings
from embedlab.stores.ingest import SkipFile, read_file

#: small blocks, so a few KB of text make many pieces (the real bound is 64,000 chars).
BLOCK = 600


def _one_line_text(n: int = 6) -> str:
    """Real news text with every line break made a space: one line of a few KB."""
    return " ".join(" ".join(a.text.split()) for a in news_articles(limit=n))


def test_bounded_lines_cut_a_long_line_after_whitespace_into_pieces_of_at_most_the_limit() -> None:
    text = _one_line_text(3)
    assert "\n" not in text and len(text) > 20 * 100
    pieces = list(bounded_lines(io.StringIO(text), 100))
    assert "".join(pieces) == text  # nothing lost, nothing twice
    assert max(len(p) for p in pieces) <= 100
    assert all(p[-1].isspace() for p in pieces[:-1])  # no word is split
    # lines that fit come whole, with their line end; a word longer than the limit is cut
    f = io.StringIO("short line\n" + "x" * 250 + "\nend")
    assert list(bounded_lines(f, 100)) == [
        "short line\n",
        "x" * 100,
        "x" * 100,
        "x" * 50 + "\n",
        "end",
    ]


def test_text_reader_never_holds_more_than_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "BLOCK_CHARS", BLOCK)
    text = _one_line_text()
    p = tmp_path / "one-line.txt"
    p.write_text(text, encoding="utf-8")
    got = []
    with open_text(p, SkipFile) as f:  # the pieces the reader reads are bounded
        assert max(len(x) for x in bounded_lines(f, BLOCK)) <= BLOCK
    for rec in read_file(p):
        assert len(rec.text) < 3 * BLOCK  # pieces add up to 2 blocks, then are yielded
        got.append(rec)
    assert len(got) > 3 and all(r.more for r in got[:-1]) and not got[-1].more
    assert "".join(r.text for r in got) == text
    assert [r.offset for r in got] == [sum(len(r.text) for r in got[:i]) for i in range(len(got))]


def _old_blocks(path: Path, block: int) -> list[tuple[int, str]]:
    """The blocks the reader made before lines were read in pieces (its code, as it was)."""
    parts: list[str] = []
    size = offset = 0
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        for line in f:
            parts.append(line)
            size += len(line)
            if size >= 2 * block or (size >= block and not line.strip()):
                out.append((offset, "".join(parts)))
                offset += size
                parts, size = [], 0
    if parts:
        out.append((offset, "".join(parts)))
    return out


def test_a_file_with_newlines_gives_the_blocks_it_gave_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "BLOCK_CHARS", BLOCK)
    arts = news_articles(limit=8)
    p = tmp_path / "news.md"
    p.write_text("\n\n".join(f"# {a.title}\n\n{a.text}" for a in arts), encoding="utf-8")
    got: list[tuple[int, str]] = []
    joined = False  # the last record said its text goes on: join the next one to it
    for r in read_file(p):
        if joined:
            got[-1] = (got[-1][0], got[-1][1] + r.text)
        else:
            got.append((r.offset, r.text))
        joined = r.more
    old = _old_blocks(p, BLOCK)
    assert len(old) > 5 and got == old  # a paragraph over 2 blocks long comes in pieces


@pytest.mark.parametrize(
    "settings",
    [
        ChunkSettings("tokens", 40, 8),
        ChunkSettings("tokens", 32, 0),
        ChunkSettings("sentence", 24, 0),
    ],
    ids=["tokens-overlap", "tokens", "sentence"],
)
def test_a_one_line_file_is_chunked_as_the_whole_text_is(
    minilm: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: ChunkSettings
) -> None:
    monkeypatch.setattr(ingest, "BLOCK_CHARS", BLOCK // 2)
    text = _one_line_text(2)[:3000]
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "one-line.txt").write_text(text, encoding="utf-8")
    whole = Chunker(minilm, settings).chunks(text)  # the whole text at once, as before
    name = f"bigline-{settings.by}-{settings.overlap}"
    index = create_index(name, [folder], minilm, chunking=settings)
    try:
        chunks = index.get_chunks([int(i) for i in index.chunk_ids()])
        got = sorted((c.position["chunk"], c.position["start"], c.position["end"], c.text)
                     for c in chunks)  # fmt: skip
        assert len(whole) > 10 and len(list(read_file(folder / "one-line.txt"))) >= 4
        assert got == [(n, w.start, w.end, w.text) for n, w in enumerate(whole)]
        assert all(text[s:e].strip() == t for _, s, e, t in got)
    finally:
        drop_index(name)
