"""Ingest faults (issue 12): one bad line of a JSONL or CSV file is skipped and reported with
its line number while the rest of the file is indexed; update skips links as create does."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.models import Encoder
from embedlab.stores import create_index, drop_index, open_index, update_index
from embedlab.stores.ingest import discover, read_file

RECORDS = [
    {"text": "Cats sleep for most of the day.", "title": "Cats"},
    {"text": "Rockets burn fuel to reach orbit.", "title": "Rockets"},
    {"text": "Bread dough rises when it rests.", "title": "Bread"},
    {"text": "Rivers carry sand to the sea.", "title": "Rivers"},
    {"text": "Owls hunt mice at night.", "title": "Owls"},
    {"text": "Glaciers carve deep valleys.", "title": "Glaciers"},
]


def _jsonl(path: Path, bad_at: int | None = None) -> Path:
    lines = [json.dumps(r) for r in RECORDS]
    if bad_at is not None:
        lines.insert(bad_at, '{"text": "half a record", "title": ')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_jsonl_line_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    p = _jsonl(tmp_path / "notes.jsonl", bad_at=2)  # line 3
    recs = list(read_file(p))
    good = [r for r in recs if not r.problem]
    assert [r.text for r in good] == [r["text"] for r in RECORDS]
    assert [(r.line, r.problem) for r in recs if r.problem] == [
        (3, "not valid JSON (Expecting value)")
    ]


def test_bad_csv_rows_are_reported_with_their_line(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text(
        'id,text,title\n1,"Hello, world",Greeting\n2,too,many,fields\n3,Bye,Farewell\n',
        encoding="utf-8",
    )
    recs = list(read_file(p))
    assert [r.text for r in recs if not r.problem] == ["Hello, world", "Bye"]
    assert [(r.line, r.problem) for r in recs if r.problem] == [(3, "has 4 fields, the header 3")]


def test_update_keeps_a_jsonl_file_with_one_bad_line(minilm: Encoder, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    p = _jsonl(src / "notes.jsonl")
    index = create_index("bad-line", [src], minilm)
    assert len(index) == 6
    _jsonl(p, bad_at=4)  # a bad line 5 appears; the six records are unchanged
    res = CliRunner().invoke(cli, ["index", "update", "bad-line", "-q"])
    assert res.exit_code == 0, res.output
    assert f"{p}:5: not valid JSON (Expecting value)" in res.output
    assert "0 chunk(s) embedded, 6 reused, 0 removed" in res.output
    assert sorted(open_index("bad-line").texts()) == sorted(r["text"] for r in RECORDS)
    p.write_text("not json at all\n", encoding="utf-8")  # now nothing can be read
    report = update_index("bad-line", minilm)
    assert report.chunks_removed == 6 and len(open_index("bad-line")) == 0  # was "0 removed"
    drop_index("bad-line")


def test_create_indexes_the_good_lines_and_reports_the_bad(minilm: Encoder, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    p = _jsonl(src / "notes.jsonl", bad_at=0)
    index = create_index("bad-first", [src], minilm)
    assert len(index) == 6  # was 0: the whole file was dropped for its first line
    (skip,) = index.report.skipped
    assert (skip.path, skip.line, skip.reason) == (str(p), 1, "not valid JSON (Expecting value)")
    chunks = index.get_chunks(index.chunk_ids())
    assert {c.position["record"] for c in chunks} == {1, 2, 3, 4, 5, 6}  # line - 1, as before
    drop_index("bad-first")


def test_update_skips_links_as_create_does(minilm: Encoder, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("Cats sleep for most of the day.", encoding="utf-8")
    create_index("links", [src], minilm)
    os.symlink(src / "gone.txt", src / "dangling.txt")
    os.symlink(src / "loop.txt", src / "loop.txt")
    files, skipped = discover([src])
    assert files == [src / "a.txt"]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert reasons["dangling.txt"].startswith("broken symbolic link")
    assert reasons["loop.txt"] == "symbolic link loop"
    res = CliRunner().invoke(cli, ["index", "update", "links", "-q"])  # was: raw OSError
    assert res.exit_code == 0, res.output
    assert "1 unchanged" in res.output and "dangling.txt: broken symbolic link" in res.output
    assert "loop.txt: symbolic link loop" in res.output
    res = CliRunner().invoke(cli, ["index", "create", "links2", str(src), "-q"])
    assert res.exit_code == 0 and "dangling.txt: broken symbolic link" in res.output
    drop_index("links")
    drop_index("links2")
