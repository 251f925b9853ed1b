"""Readers: every format, skip reasons, streaming of big files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedlab.stores import ingest
from embedlab.stores.ingest import ReadOptions, SkipFile, discover, probe, read_file
from tests.stores.store_helpers import make_pdf


def _records(path: Path, **kw: str) -> list[ingest.Record]:
    probe(path)
    return list(read_file(path, ReadOptions(**kw)))


def test_txt_and_markdown(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Plain text here.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("intro\n# The Heading\n\nBody text.\n", encoding="utf-8")
    [a] = _records(tmp_path / "a.txt")
    assert a.text == "Plain text here.\n" and a.title == "a"
    [b] = _records(tmp_path / "b.md")
    assert b.title == "The Heading" and "Body text." in b.text


def test_html_strips_tags_scripts_and_keeps_title(tmp_path: Path) -> None:
    page = (
        "<html><head><title> My  Page </title><style>p {color: red}</style></head><body>"
        "<h1>Header</h1><p>First &amp; <b>bold</b> para.</p><script>var x = 'secret';</script>"
        "<div>Second para</div></body></html>"
    )
    (tmp_path / "p.html").write_text(page, encoding="utf-8")
    [r] = _records(tmp_path / "p.html")
    assert r.title == "My Page"
    assert r.text == "Header\n\nFirst & bold para.\n\nSecond para"
    assert "secret" not in r.text and "color" not in r.text


def test_jsonl_text_field_and_metadata(tmp_path: Path) -> None:
    rows = [
        {"body": "first", "title": "One", "lang": "en", "n": 1},
        {"other": "no body here"},
        {"body": "second", "lang": "fr"},
    ]
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    recs = _records(p, text_field="body")
    assert [r.text for r in recs] == ["first", "second"]
    assert [r.record for r in recs] == [0, 2]
    assert recs[0].title == "One" and recs[0].metadata == {"lang": "en", "n": 1}
    with pytest.raises(SkipFile, match="--text-field"):
        _records(p)  # default field "text" is in no record


def test_jsonl_with_only_malformed_lines_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": broken\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(SkipFile, match=r"no record has a text field 'text'"):
        _records(p)  # one bad line among good ones: tests/stores/test_ingest_faults.py


def test_csv_named_column(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text('id,content,title\n1,"Hello, world",Greeting\n2,Bye,\n', encoding="utf-8")
    recs = _records(p, text_field="content")
    assert [r.text for r in recs] == ["Hello, world", "Bye"]
    assert recs[0].metadata == {"id": "1"} and recs[0].title == "Greeting"
    with pytest.raises(SkipFile, match="no column 'text' \\(columns: id, content, title\\)"):
        _records(p)


def test_pdf_pages(tmp_path: Path) -> None:
    p = tmp_path / "doc.pdf"
    make_pdf(p, ["The first page talks about rockets.", "Page two is about bread."], "A Report")
    recs = _records(p)
    assert [r.record for r in recs] == [0, 1]
    assert "rockets" in recs[0].text and "bread" in recs[1].text
    assert recs[0].title == "A Report" and recs[0].metadata == {"pages": 2}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("bin.txt", b"abc\x00\x01\x02def", "binary file"),
        ("latin.txt", "café au lait, très bon".encode("latin-1"), "not UTF-8"),
        ("empty.md", b"", "empty file"),
        ("fake.pdf", b"hello, not a pdf", "not a PDF"),
    ],
)
def test_skip_reasons(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(SkipFile, match=reason):
        probe(p)


def test_discover_walks_folders_and_lists_unsupported(tmp_path: Path) -> None:
    (tmp_path / "sub" / ".hidden").mkdir(parents=True)
    (tmp_path / "sub" / "x.md").write_text("x", encoding="utf-8")
    (tmp_path / "sub" / ".hidden" / "y.md").write_text("y", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    files, skipped = discover([tmp_path, tmp_path / "a.txt", tmp_path / "missing.txt"])
    assert files == [tmp_path / "a.txt", tmp_path / "sub" / "x.md"]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert reasons["image.png"].startswith("unsupported file type '.png'")
    assert reasons["missing.txt"] == "not found"


def test_big_text_is_streamed_in_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "BLOCK_CHARS", 1000)
    para = "A line of words in a paragraph.\n" * 10 + "\n"
    text = para * 40  # ~13 kB -> many blocks
    p = tmp_path / "big.txt"
    p.write_text(text, encoding="utf-8")
    recs = _records(p)
    assert len(recs) > 5
    assert max(len(r.text) for r in recs) < 2 * 1000 + len(para)
    assert "".join(r.text for r in recs) == text
    for r in recs:
        assert text[r.offset : r.offset + len(r.text)] == r.text
