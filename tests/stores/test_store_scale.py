"""The embedded store at scale, at small size (issue 17): vectors scanned where they lie
(mapped, never copied), the IVF index updated by id and equal to a rebuild, retrained on
drift, built once under concurrency, rebuilt when damaged; filters answered by SQLite equal
the brute-force answer; a dropped index leaves nothing cached behind.

Indexes are written through the store's segment writer with synthetic vectors
(``benchmarks/store.py``'s ``make_index``: no model needed, 32 dims)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from benchmarks.store import add_chunks, make_index, remove_chunks

from embedlab.stores import drop_index, open_index
from embedlab.stores.base import FirstStage
from embedlab.stores.dense import DenseIndex
from embedlab.stores.filters import And, Eq, In, Or
from embedlab.stores.local import local_queries
from embedlab.stores.segment_rows import SegmentRows

D = 32
CENTRES = np.random.default_rng(5).standard_normal((40, D)).astype(np.float32)


def _vectors(start: int, stop: int, shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(start + 17)
    which = rng.integers(0, len(CENTRES), size=stop - start)
    x = CENTRES[which] + rng.standard_normal((stop - start, D)).astype(np.float32) * 0.4
    x[:, 0] += shift
    return (x * rng.uniform(0.5, 3.0, size=(len(x), 1))).astype(np.float32)  # not unit


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path))
    return tmp_path


def _make(name: str, n: int) -> Any:
    make_index(name, n, D, vectors=_vectors)
    return open_index(name)


def _truth(x: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    return np.argsort(-(qn @ xn.T), axis=1, kind="stable")[:, :k]


def _truth_rows(x: np.ndarray, rows: list[int]) -> np.ndarray:
    return x[rows] / np.linalg.norm(x[rows], axis=1, keepdims=True)


def _is_mapped(a: np.ndarray) -> bool:
    while a is not None:
        if isinstance(a, np.memmap):
            return True
        a = a.base  # type: ignore[assignment]
    return False


def test_vectors_are_unit_on_disk_and_scanned_in_place(home: Path) -> None:
    index = _make("mapped", 600)  # one segment
    raw = _vectors(0, 600)
    v = index.vectors()
    assert _is_mapped(v) and not v.flags.writeable  # the segment itself: no copy
    np.testing.assert_allclose(v, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)
    add_chunks("mapped", _vectors(600, 650))  # a second segment
    index.generation  # noqa: B018 - refresh
    dense = local_queries(index).dense_index()
    assert isinstance(dense.vectors, SegmentRows) and len(dense.vectors.blocks) == 2
    assert all(_is_mapped(b) for b in dense.vectors.blocks)
    q = _vectors(900, 905)
    hits = index.search(q, 5, stage=FirstStage(exact=True))
    truth = _truth(np.vstack([raw, _vectors(600, 650)]), q, 5)
    assert hits.ids.tolist() == index.chunk_ids()[truth].tolist()
    assert all(_is_mapped(b) for b in dense.vectors.blocks)  # still nothing copied
    both = np.vstack([raw, _vectors(600, 650)])
    got = index.vectors_of([int(index.chunk_ids()[640]), int(index.chunk_ids()[3])])
    np.testing.assert_allclose(got, _truth_rows(both, [640, 3]), atol=1e-6)  # rows only
    # a read-only memmap given to DenseIndex(unit=True) stays that memmap
    seg = dense.vectors.blocks[0]
    assert np.shares_memory(DenseIndex(seg, unit=True).vectors, seg)


def test_a_segment_written_before_normalisation_reads_normalised(home: Path) -> None:
    from embedlab.stores.db import connect
    from embedlab.stores.embedded import SEGMENTS, index_folder

    index = _make("legacy", 300)
    folder = index_folder("legacy")
    conn = connect(folder, write=True)
    (file,) = conn.execute("SELECT file FROM segments").fetchone()
    raw = _vectors(0, 300)
    old = file.replace(".unit.npy", ".npy")  # what the writer named segments before
    np.save(folder / SEGMENTS / old, raw)
    conn.execute("UPDATE segments SET file=? WHERE file=?", (old, file))
    conn.close()
    (folder / SEGMENTS / file).unlink()
    again = open_index("legacy")
    np.testing.assert_allclose(np.linalg.norm(again.vectors(), axis=1), np.ones(300), atol=1e-6)
    q = _vectors(500, 503)
    hits = again.search(q, 4, stage=FirstStage(exact=True))
    assert hits.ids.tolist() == again.chunk_ids()[_truth(raw, q, 4)].tolist()
    index.close()


def _ann_files(index: Any) -> list[str]:
    return sorted(p.name for p in (index.folder / "ann").iterdir() if p.name.startswith("gen-"))


def _all_lists(index: Any) -> Any:
    ann = local_queries(index).dense_index().ann_index()
    ann.nprobe = ann.nlist  # every list: the IVF answer is the exact one
    return ann


def test_incremental_ann_equals_a_rebuild(home: Path) -> None:
    from embedlab.stores import ann as ann_mod

    index = _make("incr", 3000)
    q = _vectors(9000, 9020)
    index.search(q, 10, stage=FirstStage(exact=False))  # builds gen-G1
    g1 = index.generation
    assert _ann_files(index) == [f"gen-{g1}.faiss", f"gen-{g1}.ids.npy", f"gen-{g1}.json"]
    add_chunks("incr", _vectors(3000, 3200))
    remove_chunks("incr", list(range(1, 3001, 30)))
    g2 = index.generation
    updated = index.search(q, 10, stage=FirstStage(exact=False))
    state = json.loads((index.folder / "ann" / f"gen-{g2}.json").read_text())
    assert state["how"] == "updated" and state["added"] == 200  # by id, not rebuilt
    assert _ann_files(index) == [f"gen-{g2}.faiss", f"gen-{g2}.ids.npy", f"gen-{g2}.json"]
    held = np.load(index.folder / "ann" / f"gen-{g2}.ids.npy")
    assert np.array_equal(held, index.chunk_ids())  # removed ids out, new ids in
    assert not set(updated.ids.ravel().tolist()) & set(range(1, 3001, 30))
    # with nprobe covering every list, the updated index and a rebuild on the same rows
    # both give the exact top-k
    ann = _all_lists(index)
    dense = local_queries(index).dense_index()
    rebuilt = ann_mod.build(dense.vectors, index.chunk_ids()).index
    rebuilt.nprobe = rebuilt.nlist
    exact = index.search(q, 10, stage=FirstStage(exact=True))
    s1, i1 = ann.search(q / np.linalg.norm(q, axis=1, keepdims=True), 10)
    s2, i2 = rebuilt.search(q / np.linalg.norm(q, axis=1, keepdims=True), 10)
    assert i1.tolist() == i2.tolist() == exact.ids.tolist()
    np.testing.assert_allclose(s1, s2, atol=1e-5)
    after = index.search(q, 10, stage=FirstStage(exact=False))
    assert after.ids.tolist() == exact.ids.tolist()


def test_a_small_update_is_served_from_the_file_plus_a_delta(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from embedlab.stores import local

    index = _make("delta", 3000)
    q = _vectors(9000, 9010)
    index.search(q, 10, stage=FirstStage(exact=False))
    g1 = index.generation
    new = _vectors(3000, 3020)
    add_chunks("delta", new)
    gone = list(range(2, 3001, 300))
    remove_chunks("delta", gone)
    probe = np.vstack([q, new[:3]])
    hits = index.search(probe, 10, stage=FirstStage(exact=False))
    assert _ann_files(index) == [f"gen-{g1}.faiss", f"gen-{g1}.ids.npy", f"gen-{g1}.json"]
    assert not set(hits.ids.ravel().tolist()) & set(gone)  # removed ids skipped by FAISS
    ids = index.chunk_ids()
    assert hits.ids[10:, 0].tolist() == ids[-20:][:3].tolist()  # added rows found exactly
    _all_lists(index)
    exact = index.search(probe, 10, stage=FirstStage(exact=True))
    found = index.search(probe, 10, stage=FirstStage(exact=False))
    assert found.ids.tolist() == exact.ids.tolist()
    np.testing.assert_allclose(found.scores, exact.scores, atol=1e-5)
    dense = local_queries(index).dense_index()
    dense.ann_threshold = 200
    monkeypatch.setattr(local, "FILTER_ANN_MIN", 10)
    try:
        expr = Eq("part", "3")
        a = index.search(probe, 10, filter=expr, stage=FirstStage(exact=False))
        b = index.search(probe, 10, filter=expr, stage=FirstStage(exact=True))
        assert a.ids.tolist() == b.ids.tolist()
    finally:
        dense.ann_threshold = 50_000


def test_drift_retrains_the_centroids(home: Path) -> None:
    from embedlab.stores import ann as ann_mod

    index = _make("drift", 3000)
    q = _vectors(9000, 9005)
    index.search(q, 5, stage=FirstStage(exact=False))
    add_chunks("drift", _vectors(3000, 4200))  # same distribution: updated by id
    index.search(q, 5, stage=FirstStage(exact=False))
    state = json.loads((index.folder / "ann" / f"gen-{index.generation}.json").read_text())
    assert state["how"] == "updated", state
    assert ann_mod.AnnState(**state).drift <= ann_mod.DRIFT_LIMIT
    add_chunks("drift", _vectors(4200, 5800, shift=8.0))  # far from every centroid
    index.search(q, 5, stage=FirstStage(exact=False))
    state = json.loads((index.folder / "ann" / f"gen-{index.generation}.json").read_text())
    assert state["how"] == "retrained" and state["added"] == 0, state
    assert state["n_trained"] == len(index.chunk_ids()) == 5800


#: a fresh process that opens the index's IVF once a start file appears, counting the
#: builds (train + fill) it runs.
RACER = """
import sys, time
from pathlib import Path
import numpy as np
from embedlab.stores import ann, open_index
from embedlab.stores.base import FirstStage
start, out = Path(sys.argv[1]), Path(sys.argv[2])
real = ann.build
def counted(rows, ids, *a):
    with open(out / "builds", "a") as f:
        f.write("1\\n")
    time.sleep(0.3)
    return real(rows, ids, *a)
ann.build = counted
index = open_index("race")
(out / f"ready-{sys.argv[3]}").touch()
while not start.exists():
    time.sleep(0.01)
q = index.vectors()[:3] + 0.01
print(index.search(q, 5, stage=FirstStage(exact=False)).ids.tolist())
"""


def test_one_build_under_concurrency(home: Path, tmp_path: Path) -> None:
    _make("race", 2000)
    start = tmp_path / "start"
    env = {**os.environ, "EMBEDLAB_HOME": str(home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(start), str(tmp_path), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        for i in range(3)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < 3:
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.05)
    start.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    assert len({out for out, _ in outs}) == 1 and outs[0][0].startswith("[[")
    assert (tmp_path / "builds").read_text().count("1") == 1  # one process built it


def test_a_damaged_ann_cache_is_rebuilt(home: Path) -> None:
    from embedlab.stores import cache, local

    index = _make("damaged", 2000)
    q = _vectors(9000, 9004)
    first = index.search(q, 5, stage=FirstStage(exact=False))
    g = index.generation
    path = index.folder / "ann" / f"gen-{g}.faiss"
    whole = path.read_bytes()
    for damage in ("half", "ids"):
        if damage == "half":
            path.write_bytes(whole[: len(whole) // 2])
        else:
            (index.folder / "ann" / f"gen-{g}.ids.npy").write_bytes(b"garbage")
        cache.clear()
        local.clear()
        again = open_index("damaged").search(q, 5, stage=FirstStage(exact=False))
        assert again.ids.tolist() == first.ids.tolist()  # no error: rebuilt
        assert path.stat().st_size == len(whole)
        np.load(index.folder / "ann" / f"gen-{g}.ids.npy")  # rewritten whole


def _records(index: Any) -> list[dict[str, Any]]:
    return index.metadata()  # type: ignore[no-any-return]


FILTERS = [
    Eq("part", "3"),
    In("part", ("1", "7")),
    Eq("even", "True"),
    And((Eq("part", "2"), Eq("even", "True"))),
    Or((Eq("part", "9"), Eq("source", "/synthetic/doc1.txt"))),
    And(()),
]


def test_filters_equal_the_brute_force_answer(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from embedlab.stores import local

    monkeypatch.setattr(local, "FILTER_ANN_MIN", 10)  # 250 rows count as many here
    index = _make("filters", 2500)
    raw = _vectors(0, 2500)
    records = _records(index)
    ids = index.chunk_ids()
    q = _vectors(9000, 9006)
    dense = local_queries(index).dense_index()
    for expr in FILTERS:
        allowed = np.array([i for i, r in enumerate(records) if expr.matches(r)])
        truth = allowed[_truth(raw[allowed], q, 10)]
        assert index.count(expr) == len(allowed)
        exact = index.search(q, 10, filter=expr, stage=FirstStage(exact=True))
        assert exact.ids.tolist() == ids[truth].tolist(), expr
        # a filter of many rows answered in place (FAISS id selector; exact scan of the
        # mapped rows), as at a million rows: the same answer with every list probed
        dense.ann_threshold = 200
        try:
            in_place = index.search(q, 10, filter=expr, stage=FirstStage(exact=True))
            assert in_place.ids.tolist() == ids[truth].tolist(), expr
            _all_lists(index)
            ann = index.search(q, 10, filter=expr, stage=FirstStage(exact=False))
            assert ann.method == "ann" and ann.ids.tolist() == ids[truth].tolist(), expr
            np.testing.assert_allclose(ann.scores, exact.scores, atol=1e-5)
        finally:
            dense.ann_threshold = 50_000


def test_filter_sql_compares_values_as_text(home: Path) -> None:
    """Every JSON type SQLite holds, against Filter.matches on the same records."""
    import sqlite3

    from embedlab.stores.filter_sql import matching_ids

    metas = [
        {"v": "a"}, {"v": 2}, {"v": True}, {"v": False}, {"v": None}, {"v": 1.5},
        {"v": 1e20}, {"v": [1, 2]}, {"v": {"x": 1}}, {}, {"source": "own"}, {"v": "2"},
    ]  # fmt: skip
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT);"
        "CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc_id INT, title TEXT, metadata TEXT);"
    )
    conn.execute("INSERT INTO documents VALUES (1, 'file.txt')")
    conn.executemany(
        "INSERT INTO chunks VALUES (?, 1, 't', ?)",
        [(i + 1, json.dumps(m)) for i, m in enumerate(metas)],
    )
    records = [{"source": "file.txt", "title": "t", **m} for m in metas]
    values = ["a", "2", "True", "False", "None", "1.5", "1e+20", "[1, 2]", "{'x': 1}", "own"]
    exprs: list[Any] = [Eq("v", v) for v in values] + [
        Eq("source", "file.txt"),
        Eq("source", "own"),
    ]
    exprs += [
        In("v", ("2", "True")),
        Or((Eq("v", "a"), Eq("title", "t"))),
        And((Eq("v", "1.5"), Eq("title", "t"))),
    ]
    for expr in exprs:
        want = [i + 1 for i, r in enumerate(records) if expr.matches(r)]
        assert matching_ids(conn, expr).tolist() == want, expr
    from embedlab.errors import InputError

    with pytest.raises(InputError, match="No chunk has a field 'nope'.*Fields: source, title, v"):
        matching_ids(conn, Eq("nope", "1"))


def test_dropping_an_index_forgets_its_cached_structures(
    minilm: Any, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index dropped and made again under the same name, at the same generation (the
    clock patched to stand still), is served its own vectors, not the old index's."""
    from embedlab.stores import create_index

    frozen = time.gmtime(1_800_000_000)
    monkeypatch.setattr(time, "time_ns", lambda: 1_800_000_000_000_000_000)
    monkeypatch.setattr(time, "gmtime", lambda *_: frozen)
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, texts in ((a, ["Cats sleep all day.", "Rockets reach orbit."]),
                          (b, ["Bread dough rises.", "Rivers flow to the sea."])):  # fmt: skip
        folder.mkdir()
        for i, text in enumerate(texts):
            (folder / f"{i}.txt").write_text(text, encoding="utf-8")
    q = minilm.embed(["Bread dough rises."])
    first = create_index("same", [a], minilm)
    first.search(q, 2)
    g, created = first.generation, first.stats().created
    drop_index("same")
    second = create_index("same", [b], minilm)
    assert (second.generation, second.stats().created) == (g, created)  # nothing tells them apart
    hits = second.search(q, 2)
    best = second.get_chunks([int(hits.ids[0, 0])])[0]
    assert best.text == "Bread dough rises."
    np.testing.assert_allclose(hits.scores[0, 0], 1.0, atol=1e-5)
