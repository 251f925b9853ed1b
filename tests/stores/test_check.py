"""Damaged indexes (issue 12): ``index check``, a damaged one listed and dropped, segments
checked on load, the schema version checked on open, an index made by older code opened."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.errors import IndexDamagedError, StoreError
from embedlab.models import Encoder
from embedlab.stores import (
    EmbeddedIndex,
    check_index,
    create_index,
    drop_index,
    list_indexes,
    open_index,
    survey_indexes,
    update_index,
)
from embedlab.stores.db import SCHEMA_VERSION
from embedlab.stores.embedded import DB_NAME, SEGMENTS, forget, index_folder

LEGACY = Path(__file__).resolve().parent.parent / "data" / "legacy-v1"


@pytest.fixture(scope="module")
def base_index(minilm: Encoder, tmp_path_factory: pytest.TempPathFactory) -> EmbeddedIndex:
    """A small clean index (3 files) that each test copies before damaging the copy."""
    src = tmp_path_factory.mktemp("check-src")
    texts = {
        "cats.txt": "Cats sleep for most of the day and wake up hungry.",
        "rockets.txt": "Rockets burn fuel to climb out of the atmosphere and reach orbit.",
        "bread.txt": "Bread dough rises when the yeast has had time to work.",
    }
    for name, text in texts.items():
        (src / name).write_text(text, encoding="utf-8")
    return create_index("check-base", [src], minilm)


@pytest.fixture()
def copy(base_index: EmbeddedIndex, request: pytest.FixtureRequest) -> Iterator[str]:
    """A private copy of the base index (its folder copied whole), dropped afterwards."""
    name = "copy-" + request.node.name.replace("_", "-")[:40]
    shutil.copytree(base_index.folder, index_folder(name))
    yield name
    shutil.rmtree(index_folder(name), ignore_errors=True)
    forget(index_folder(name))


def _segment(name: str) -> Path:
    (seg,) = (index_folder(name) / SEGMENTS).glob("*.npy")
    return seg


def test_clean_index_checks_ok_with_counts_and_checksums(base_index: EmbeddedIndex) -> None:
    r = check_index(base_index.name)
    assert r.ok, r.problems
    assert (r.documents, r.chunks) == (3, len(base_index))
    assert r.integrity == "ok" and r.schema_version == SCHEMA_VERSION
    assert r.fingerprint == base_index.fingerprint
    seg = _segment(base_index.name)
    import hashlib

    assert [s.sha256 for s in r.segments] == [hashlib.sha256(seg.read_bytes()).hexdigest()]
    res = CliRunner().invoke(cli, ["index", "check", base_index.name])
    assert res.exit_code == 0 and res.output.rstrip().endswith("OK"), res.output
    res = CliRunner().invoke(cli, ["index", "check", base_index.name, "--json"])
    data = json.loads(res.output)
    assert data["ok"] is True and data["chunks"] == len(base_index)
    assert data["segments"][0]["sha256"] == r.segments[0].sha256


def test_edited_meta_and_dangling_rows_are_found(copy: str) -> None:
    fingerprint = check_index(copy).fingerprint
    conn = sqlite3.connect(index_folder(copy) / DB_NAME)
    conn.execute("UPDATE meta SET value='\"0000000000000000\"' WHERE key='fingerprint'")
    conn.commit()
    r = check_index(copy)
    assert not r.ok and "does not match the recorded model description" in r.problems[0]
    conn.execute("UPDATE meta SET value=? WHERE key='fingerprint'", (json.dumps(fingerprint),))
    conn.execute("UPDATE chunks SET row = row + 1000 WHERE id = (SELECT min(id) FROM chunks)")
    conn.commit()
    conn.close()
    forget(index_folder(copy))
    r = check_index(copy)
    assert not r.ok and any(
        "1 chunk(s) point at a vector that no segment holds" in p for p in r.problems
    )
    with pytest.raises(IndexDamagedError, match="points at row 10"):
        open_index(copy).vectors()


def test_row_overwritten_in_place_is_found_by_check(copy: str) -> None:
    seg = _segment(copy)
    before = open_index(copy).vectors().copy()
    data = bytearray(seg.read_bytes())
    data[-16:] = np.full(4, 0.5, dtype=np.float32).tobytes()  # last row, same size
    seg.write_bytes(bytes(data))
    forget(index_folder(copy))
    assert open_index(copy).vectors()[-1, -1] == 0.5 != before[-1, -1]  # served (cheap load)
    r = check_index(copy)
    assert not r.ok and len(r.problems) == 1
    assert str(seg) in r.problems[0] and "sha256 differs" in r.problems[0]
    assert f"embedlab index drop {copy}" in r.problems[0]
    res = CliRunner().invoke(cli, ["index", "check", copy])
    assert res.exit_code == 1 and "PROBLEM: " + str(seg) in res.output, res.output
    assert "Traceback" not in res.output


def test_truncated_segment_is_a_clear_error_naming_the_file(copy: str) -> None:
    seg = _segment(copy)
    with open(seg, "r+b") as f:
        f.truncate(seg.stat().st_size - 100)
    forget(index_folder(copy))
    with pytest.raises(IndexDamagedError) as err:
        open_index(copy).vectors()
    msg = str(err.value)
    assert str(seg) in msg and f"embedlab index drop {copy}" in msg
    r = check_index(copy)
    assert not r.ok and str(seg) in r.problems[0] and "truncated" in r.problems[0]
    res = CliRunner().invoke(cli, ["search", copy, "cats", "--mode", "dense"])
    assert res.exit_code == 1 and str(seg) in res.output and "Traceback" not in res.output


def test_damaged_database_is_listed_checked_and_dropped(
    base_index: EmbeddedIndex, copy: str
) -> None:
    folder = index_folder(copy)
    for extra in ("-wal", "-shm"):
        (folder / (DB_NAME + extra)).unlink(missing_ok=True)
    (folder / DB_NAME).write_bytes(b"this is not a database " * 200)
    forget(folder)
    with pytest.raises(IndexDamagedError, match=f"{folder / DB_NAME}.*index drop {copy}"):
        open_index(copy)
    entries = {e.name: e for e in survey_indexes()}
    assert entries[base_index.name].stats is not None  # the others are still listed
    assert entries[copy].stats is None and "damaged" in entries[copy].problem
    assert base_index.name in list_indexes() and copy not in list_indexes()
    res = CliRunner().invoke(cli, ["index", "list"])
    assert res.exit_code == 0, res.output
    assert base_index.name in res.output and f"{copy}: Index {copy!r} is damaged" in res.output
    res = CliRunner().invoke(cli, ["index", "check", copy])
    assert res.exit_code == 1 and "not a database" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["index", "drop", copy])
    assert res.exit_code == 0, res.output
    assert not folder.exists() and copy not in {e.name for e in survey_indexes()}


def test_newer_schema_is_refused_on_open(copy: str) -> None:
    conn = sqlite3.connect(index_folder(copy) / DB_NAME)
    conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    forget(index_folder(copy))
    with pytest.raises(
        StoreError, match=r"newer embedlab \(store schema 99; this version reads up to"
    ):
        open_index(copy)
    (entry,) = [e for e in survey_indexes() if e.name == copy]
    assert entry.stats is None and "newer embedlab" in entry.problem
    assert not check_index(copy).ok


def test_index_made_by_schema_1_code_opens_checks_and_is_upgraded(
    minilm: Encoder, tmp_path: Path
) -> None:
    name = "legacy"
    folder = index_folder(name)
    shutil.copytree(LEGACY, folder, ignore=shutil.ignore_patterns("sources", "README.md"))
    sources = tmp_path / "sources"
    shutil.copytree(LEGACY / "sources", sources)
    try:
        index = open_index(name)
        assert len(index) == 4
        np.testing.assert_allclose(index.vectors(), minilm.embed(index.texts()), atol=1e-4)
        r = check_index(name)
        assert r.ok and r.schema_version == 1, r.problems
        assert any("before checksums" in n for n in r.notes)
        assert any("next 'index update' upgrades it" in n for n in r.notes)
        conn = sqlite3.connect(folder / DB_NAME)  # its sources, moved to where they are now
        conn.execute("UPDATE meta SET value=? WHERE key='sources'", (json.dumps([str(sources)]),))
        conn.commit()
        conn.close()
        report = update_index(name, minilm)  # documents moved: their vectors are reused
        assert (report.files_indexed, report.files_removed) == (3, 3)
        assert (report.chunks_embedded, report.chunks_reused) == (0, 4)
        r = check_index(name)
        assert r.ok and r.schema_version == SCHEMA_VERSION, r.problems
        (sources / "more.txt").write_text("Owls hunt at night.", encoding="utf-8")
        update_index(name, minilm)
        r = check_index(name)
        assert r.ok and len(r.segments) == 2, r.problems
        assert any(n.startswith("1 segment(s) were written before checksums") for n in r.notes)
    finally:
        drop_index(name)
