"""The one text reader: which encodings it reads, and where it says a file goes wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedlab.data import text
from embedlab.data.jsonl import json_lines
from embedlab.data.text import open_text, read_text, text_problem
from embedlab.errors import DatasetError, InputError

WORDS = "naïve café\nœuvre — 東京\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_utf8_and_utf16_with_a_bom_read_the_same_text(tmp_path: Path, encoding: str) -> None:
    raw = WORDS.encode(encoding)
    if encoding == "utf-16-le":
        raw = b"\xff\xfe" + raw
    elif encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw
    p = tmp_path / "t.txt"
    p.write_bytes(raw)
    assert text_problem(p) is None
    assert read_text(p) == WORDS  # the BOM is not part of the text


def test_a_bad_byte_is_named_by_line_and_byte_offset(tmp_path: Path) -> None:
    p = tmp_path / "latin.txt"
    p.write_bytes(b"ok\nstill ok\ncaf\xe9\n")
    expected = "not UTF-8 (a bad byte at line 3, byte offset 15)"
    assert text_problem(p).startswith(expected)  # type: ignore[union-attr]
    with pytest.raises(
        DatasetError,
        match=r"^latin\.txt: not UTF-8 \(a bad byte at line 3, byte offset 15\): .*UTF-16",
    ):
        read_text(p, DatasetError, label="latin.txt")


def test_offsets_stay_right_across_read_blocks(tmp_path: Path, monkeypatch) -> None:
    """A multi-byte character cut by a block boundary is fine; the bad byte after it is found."""
    monkeypatch.setattr(text, "_READ_BYTES", 8)
    p = tmp_path / "long.txt"
    good = "abcdefé\n" * 5  # 'é' is cut by the 8-byte blocks
    p.write_bytes(good.encode() + b"xy\xff\n")
    offset = len(good.encode()) + 2
    assert f"line 6, byte offset {offset})" in text_problem(p)  # type: ignore[operator]


def test_bad_utf16_names_the_line_after_the_bom(tmp_path: Path) -> None:
    p = tmp_path / "u16.txt"
    p.write_bytes(b"\xff\xfe" + "a\nb\n".encode("utf-16-le") + b"\x00\xd8a\x00")  # lone surrogate
    assert "not UTF-16 (a bad byte at line 3, byte offset 10)" in text_problem(p)  # type: ignore[operator]


def test_nul_bytes_without_a_bom_are_a_binary_file(tmp_path: Path) -> None:
    p = tmp_path / "bin.txt"
    p.write_bytes("no bom".encode("utf-16-le"))
    with pytest.raises(InputError, match="binary file .*UTF-16 without a BOM"), open_text(p) as f:
        f.read()


def test_jsonl_goes_through_the_same_reader(tmp_path: Path) -> None:
    p = tmp_path / "rows.jsonl"
    p.write_bytes('{"text": "é"}\n'.encode("utf-16"))
    assert list(json_lines(p)) == [(1, {"text": "é"})]
    p.write_bytes(b'{"text": "a"}\n{"text": "\xe9"}\n')
    with pytest.raises(DatasetError, match=r"rows\.jsonl: not UTF-8 \(a bad byte at line 2"):
        list(json_lines(p, DatasetError))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", "Première ligne.\n\nDeuxième paragraphe, œuvre.\n"),
        ("rows.csv", "text,label\nnaïve café,a\nœuvre,b\n"),
        ("rows.jsonl", '{"text": "naïve café"}\n{"text": "œuvre"}\n'),
    ],
)
def test_indexing_reads_utf16_files_like_utf8_ones(tmp_path: Path, name: str, content: str) -> None:
    """Ingest goes through the same reader: a UTF-16 file gives the records its UTF-8 twin does."""
    from embedlab.stores.ingest import probe, read_file

    records = []
    for encoding in ("utf-8", "utf-16"):
        p = tmp_path / encoding / name
        p.parent.mkdir()
        p.write_bytes(content.encode(encoding))
        probe(p)  # raises SkipFile when it would not be indexed
        records.append([(r.text, r.record, r.offset) for r in read_file(p)])
    assert records[0] == records[1] and records[0]
