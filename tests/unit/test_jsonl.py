"""The one JSON-lines reader: numbering, blank lines, BOM, and the error it raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedlab.data.jsonl import json_lines
from embedlab.errors import DatasetError, InputError


def test_lines_are_numbered_from_one_and_blank_lines_skipped(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n   \n{"a": 2}\n')
    assert list(json_lines(p)) == [(1, {"a": 1}), (4, {"a": 2})]


def test_bad_lines_name_the_file_and_line_in_the_given_error(tmp_path: Path) -> None:
    p = tmp_path / "b.jsonl"
    p.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(DatasetError, match=r"b.jsonl:2: not valid JSON \(.+\); like this\.$"):
        list(json_lines(p, DatasetError, hint="; like this"))
    p.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(
        InputError, match=r"^b.jsonl:2: expected a JSON object \{\.\.\.\}, got list"
    ):
        list(json_lines(p, label="b.jsonl"))
    assert list(json_lines(p, objects=False)) == [(1, {"a": 1}), (2, [1, 2])]
