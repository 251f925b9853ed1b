"""Derived caches under an index folder (issue 12): written to a temporary name and renamed
into place, rebuilt when unreadable, and safe with several fresh processes at once."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from embedlab.stores.cache import persist_ann
from embedlab.stores.dense import DenseIndex
from embedlab.stores.keyword import BM25Index

#: a fresh process that builds (or opens) the BM25 cache of one generation once a start
#: file appears; saving is slowed so that the three processes overlap while they write.
RACER = """
import sys, time
from pathlib import Path
from embedlab.stores.keyword import BM25Index
folder, start = Path(sys.argv[1]), Path(sys.argv[2])
texts = [f"document {i} about topic {i % 37} and words w{i % 101} w{i % 13}" for i in range(3000)]
real = BM25Index.save
def slow_save(self, path):
    real(self, path)
    time.sleep(0.5)
BM25Index.save = slow_save
(folder / f"ready-{sys.argv[3]}").touch()
while not start.exists():
    time.sleep(0.01)
index = BM25Index.cached(folder, 7, lambda: texts)
print(index.search("topic 5 w7", k=5).ids.tolist())
"""


def _vectors(n: int = 3000, d: int = 32) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, d)).astype(np.float32)


def test_half_written_ann_file_is_rebuilt(tmp_path: Path) -> None:
    base = tmp_path / "ann"
    dense = DenseIndex(_vectors(), ann_threshold=100)
    persist_ann(dense, base, 5)
    path = base / "gen-5.faiss"
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # what a full disk left before this fix
    again = DenseIndex(_vectors(), ann_threshold=100)
    assert again.load_ann(path) is False  # was: RuntimeError read_vector_with_known_size
    persist_ann(again, base, 5)
    assert path.stat().st_size == len(whole)
    hits = again.search(_vectors()[:3], k=5)
    assert hits.method == "ann" and hits.ids[:, 0].tolist() == [0, 1, 2]
    assert sorted(p.name for p in base.iterdir()) == ["gen-5.faiss", "gen-5.nprobe"]


def test_full_disk_while_writing_ann_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated: faiss' writer is patched to write half a file and fail with ENOSPC."""
    import faiss

    real = faiss.write_index

    def half_then_full(index: object, name: str) -> None:
        real(index, name)
        data = Path(name).read_bytes()
        Path(name).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", name)

    base = tmp_path / "ann"
    dense = DenseIndex(_vectors(), ann_threshold=100)
    monkeypatch.setattr(faiss, "write_index", half_then_full)
    persist_ann(dense, base, 9)  # no error: the index is served from memory
    assert dense.search(_vectors()[:1], k=3).method == "ann"
    assert list(base.iterdir()) == []  # neither the half file nor a temporary one
    monkeypatch.setattr(faiss, "write_index", real)
    again = DenseIndex(_vectors(), ann_threshold=100)
    persist_ann(again, base, 9)
    assert DenseIndex(_vectors(), ann_threshold=100).load_ann(base / "gen-9.faiss")


def test_unreadable_bm25_cache_is_rebuilt(tmp_path: Path) -> None:
    texts = ["cats sleep all day", "rockets reach orbit", "bread dough rises"]
    BM25Index.cached(tmp_path, 3, lambda: texts)
    target = tmp_path / "bm25" / "gen-3"
    (target / "params.index.json").write_text("{half")
    index = BM25Index.cached(tmp_path, 3, lambda: texts)
    assert index.search("rockets", k=1).ids.tolist() == [1]
    assert BM25Index.load(target).search("rockets", k=1).ids.tolist() == [1]


def test_three_fresh_processes_race_on_a_new_bm25_generation(tmp_path: Path) -> None:
    start = tmp_path / "start"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path), str(start), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < 3:  # all three imported, at the start line
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.05)
    start.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    assert len({out for out, _ in outs}) == 1 and outs[0][0].startswith("[")
    assert sorted(p.name for p in (tmp_path / "bm25").iterdir()) == ["gen-7"]
    assert BM25Index.load(tmp_path / "bm25" / "gen-7").n == 3000
    assert os.listdir(tmp_path / "bm25" / "gen-7")


def test_map_cache_under_an_index_is_recomputed_when_damaged_or_unwritable(tmp_path: Path) -> None:
    from embedlab.maps import cache

    key = {"kind": "projection", "n": 3}
    calls: list[int] = []

    def compute() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"coords": np.arange(6, dtype=np.float32).reshape(3, 2)}

    folder = tmp_path / "maps"
    cache.cached(folder, key, compute)
    (path,) = folder.glob("*.npz")
    path.write_bytes(path.read_bytes()[:40])  # damaged (was: zipfile.BadZipFile)
    arrays, hit = cache.cached(folder, key, compute)
    assert not hit and len(calls) == 2 and arrays["coords"].shape == (3, 2)
    assert cache.cached(folder, key, compute)[1]  # rewritten whole
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    arrays, hit = cache.cached(blocked, key, compute)  # cannot be written: still answered
    assert not hit and arrays["coords"].shape == (3, 2)
