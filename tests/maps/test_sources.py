"""Reading texts to map: txt, jsonl, csv, overlays; clear errors for bad rows."""

from __future__ import annotations

import json

import pytest

from embedlab.errors import EmptyInputError, InputError, UnknownFieldError
from embedlab.maps import load_corpus


def test_txt_jsonl_and_csv_overlay_by_source(tmp_path) -> None:
    (tmp_path / "a.txt").write_text("first line\n\nsecond line\n")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"text": "third", "lang": "en", "n": 3})
        + "\n"
        + json.dumps({"text": "fourth", "lang": "de", "tags": ["x"]})
        + "\n"
    )
    (tmp_path / "c.csv").write_text("body,section\nfifth,news\n")
    c = load_corpus([tmp_path / "a.txt", tmp_path / "b.jsonl"])
    assert c.texts == ["first line", "second line", "third", "fourth"]
    assert c.fields["source"] == ["a.txt", "a.txt", "b.jsonl", "b.jsonl"]
    assert c.fields["lang"] == ["", "", "en", "de"] and "tags" not in c.fields
    c2 = load_corpus([tmp_path / "c.csv"], text_field="body")
    assert c2.texts == ["fifth"] and c2.fields["section"] == ["news"]


def test_bad_rows_and_files_get_clear_errors(tmp_path) -> None:
    (tmp_path / "x.jsonl").write_text(json.dumps({"body": "hi", "id": 1}) + "\n")
    with pytest.raises(UnknownFieldError, match="line 1 has no field 'text'.*Its fields: body, id"):
        load_corpus([tmp_path / "x.jsonl"])
    (tmp_path / "y.jsonl").write_text(json.dumps({"text": "ok"}) + "\n" + json.dumps({"text": 5}))
    with pytest.raises(InputError, match="y.jsonl line 2: field 'text' is not text"):
        load_corpus([tmp_path / "y.jsonl"])
    (tmp_path / "z.csv").write_text("title,body\na,b\n")
    with pytest.raises(UnknownFieldError, match="Its fields: title, body"):
        load_corpus([tmp_path / "z.csv"])
    (tmp_path / "e.txt").write_text("\n  \n")
    with pytest.raises(EmptyInputError, match="no texts"):
        load_corpus([tmp_path / "e.txt"])
    (tmp_path / "d.docx").write_text("x")
    with pytest.raises(InputError, match=r"must be \.txt, \.jsonl, \.csv"):
        load_corpus([tmp_path / "d.docx"])
