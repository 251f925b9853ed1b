"""``embedlab index update`` says how many files it resumed inside and how many checkpoints
it committed (WriteReport.files_resumed, .checkpoints), when there were any."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.models import Encoder
from embedlab.stores import drop_index, writer
from tests.stores.test_checkpoint import CHECKPOINT, _interrupted_create, _records, _write


def test_update_prints_files_resumed_and_checkpoints(
    minilm: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "CHECKPOINT_CHUNKS", CHECKPOINT)
    monkeypatch.setattr(writer, "EMBED_BATCH", 4)
    folder = tmp_path / "big"
    _write("jsonl", folder, _records(6))
    name = "update-report"
    _interrupted_create(name, folder, minilm, monkeypatch)
    counted = []  # the checkpoints the update commits, counted here
    real = writer.IndexWriter._checkpoint

    def checkpoint(self: writer.IndexWriter, *args: Any) -> None:
        counted.append(1)
        real(self, *args)

    monkeypatch.setattr(writer.IndexWriter, "_checkpoint", checkpoint)
    try:
        r = CliRunner().invoke(cli, ["index", "update", name, "-q"])
        assert r.exit_code == 0, r.output
        assert counted, "the update committed no checkpoint: the test proved nothing"
        assert (
            f"1 file(s) resumed at an interrupted run's last checkpoint; {len(counted)} "
            "checkpoint(s) committed inside big files." in r.output
        )
        r = CliRunner().invoke(cli, ["index", "update", name, "-q"])  # nothing left to do
        assert r.exit_code == 0 and "0 file(s) indexed, 1 unchanged" in r.output
        assert "resumed" not in r.output and "checkpoint" not in r.output
    finally:
        drop_index(name)
