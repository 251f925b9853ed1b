"""Loaded cross-encoders are cached by their folder's files: a folder retrained in place
loads again, an unchanged one does not (issue 13 #7)."""

from __future__ import annotations

import shutil
from pathlib import Path

from embedlab.models.rerankers import load_reranker


def test_reranker_reloads_when_its_folder_changes(cross_encoder_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "rr"
    shutil.copytree(cross_encoder_dir, folder)
    first = load_reranker(str(folder))
    assert load_reranker(str(folder)) is first  # unchanged: cached
    (folder / "retrained.txt").write_text("weights written again", encoding="utf-8")
    second = load_reranker(str(folder))
    assert second is not first and load_reranker(str(folder)) is second
