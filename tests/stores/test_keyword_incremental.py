"""The embedded store's incremental keyword index (issue 17): caught up, not rebuilt, and
always equal to rank_bm25's BM25Okapi computed on the live rows in the test."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from embedlab.data import news_articles
from embedlab.stores import fulltext
from embedlab.stores.filters import Eq, In
from embedlab.stores.fulltext import FullTextIndex, open_keyword
from embedlab.stores.keyword import tokenize

QUERIES = ["police said", "the government said the government", "market market growth", "zzzz"]


@pytest.fixture(scope="module")
def news() -> list[Any]:
    return news_articles(limit=260)


def _reference(texts: list[str], query: str) -> np.ndarray:
    """rank_bm25's Okapi scores over ``texts`` (the independent reference)."""
    return np.asarray(BM25Okapi([tokenize(t) for t in texts]).get_scores(tokenize(query)))


def _assert_equals_reference(index: FullTextIndex, ids: np.ndarray, text_of: dict[int, str],
                             queries: list[str]) -> None:  # fmt: skip
    np.testing.assert_array_equal(index.ids, ids)
    texts = [text_of[int(i)] for i in ids]
    for q in queries:
        ref = _reference(texts, q)
        np.testing.assert_allclose(index.get_scores(q), ref, atol=1e-5, rtol=1e-6)
        best = np.lexsort((np.arange(len(ref)), -ref))[:10]
        best = best[ref[best] > 0]
        hits = index.search(q, 10)
        assert ids[hits.ids].tolist() == ids[best].tolist()


def test_build_equals_rank_bm25(news: list[Any]) -> None:
    texts = [a.text for a in news[:200]]
    ids = np.arange(10, 210, dtype=np.int64)
    index = FullTextIndex.build(1, ids, texts)
    queries = [a.title for a in news[:25]] + QUERIES
    _assert_equals_reference(index, ids, dict(zip(ids.tolist(), texts, strict=True)), queries)
    # "cat" is in 4 of 5 documents: negative Okapi idf, floored at 0.25 x the mean idf
    small = ["cat sat mat cat", "cat dog", "cat bird", "cat fish", "dog bark"]
    floor = FullTextIndex.build(1, np.arange(5), small)
    np.testing.assert_allclose(floor.get_scores("cat"), _reference(small, "cat"), atol=1e-6)


def test_catch_up_equals_rebuild_and_rank_bm25(
    news: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fulltext, "MAX_SEGMENTS", 3)  # so that merges happen on the way
    monkeypatch.setattr(fulltext, "TOKENIZE_BATCH", 37)  # and builds count in batches
    text_of = {i: a.text for i, a in enumerate(news)}
    rng = np.random.default_rng(7)
    live = np.arange(0, 120, dtype=np.int64)
    index = FullTextIndex.build(1, live, [text_of[i] for i in live.tolist()])
    top = 120
    fetched: list[list[int]] = []

    def fetch(ids: np.ndarray) -> list[str]:
        fetched.append(ids.tolist())
        return [text_of[int(i)] for i in ids]

    queries = [news[i].title for i in (3, 50, 130, 200, 240)] + QUERIES
    for gen in range(2, 9):
        removed = rng.choice(live, size=min(len(live), 12), replace=False)
        added = np.arange(top, min(top + 20, len(news)), dtype=np.int64)
        top += len(added)
        live = np.union1d(np.setdiff1d(live, removed), added)
        index = index.catch_up(gen, live, fetch)  # type: ignore[assignment]
        assert index is not None
        assert fetched[-1] == added.tolist()  # only the new chunks were read
        rebuilt = FullTextIndex.build(gen, live, [text_of[i] for i in live.tolist()])
        for q in queries:
            np.testing.assert_array_equal(index.get_scores(q), rebuilt.get_scores(q))
            a, b = index.search(q, 10), rebuilt.search(q, 10)
            assert a.ids.tolist() == b.ids.tolist()
            assert not set(removed.tolist()) & set(live[a.ids].tolist())
        _assert_equals_reference(index, live, text_of, queries)
    assert len(index.segments) <= 3


def test_not_a_continuation_is_refused(news: list[Any]) -> None:
    texts = [a.text for a in news[:20]]
    index = FullTextIndex.build(1, np.arange(0, 40, 2), texts)
    # id 5 is below the highest covered id and was never covered: the caller rebuilds
    assert index.catch_up(2, np.array([0, 2, 5]), lambda ids: ["x"] * len(ids)) is None


def _open(folder: Path, gen: int, ids: np.ndarray, text_of: dict[int, str],
          calls: dict[str, int], prior: FullTextIndex | None = None) -> FullTextIndex:  # fmt: skip
    def fetch(new: np.ndarray) -> list[str]:
        calls["fetched"] += len(new)
        return [text_of[int(i)] for i in new]

    def texts() -> list[str]:
        calls["built"] += 1
        return [text_of[int(i)] for i in ids]

    return open_keyword(folder, gen, ids, fetch, texts, prior)


def test_persisted_caught_up_and_corrupt_files_rebuilt(tmp_path: Path, news: list[Any]) -> None:
    text_of = {i: a.text for i, a in enumerate(news[:80])}
    calls = {"fetched": 0, "built": 0}
    ids = np.arange(60, dtype=np.int64)
    first = _open(tmp_path, 5, ids, text_of, calls)
    assert calls == {"fetched": 0, "built": 1}
    # a new process (nothing in memory) opens it from disk, tokenizing nothing
    again = _open(tmp_path, 5, ids, text_of, calls)
    assert calls == {"fetched": 0, "built": 1}
    np.testing.assert_array_equal(again.get_scores("police"), first.get_scores("police"))
    # one chunk added, two deleted: only the new one is read; the old state is replaced
    ids2 = np.r_[np.delete(ids, [3, 40]), 60]
    later = _open(tmp_path, 6, ids2, text_of, calls)
    assert calls == {"fetched": 1, "built": 1}
    names = sorted(p.name for p in (tmp_path / "bm25").iterdir() if p.name.startswith("gen-"))
    assert names == ["gen-6"] and len(later.segments) == 2
    fresh = _open(tmp_path, 6, ids2, text_of, calls)
    assert calls == {"fetched": 1, "built": 1} and fresh.n == 59
    _assert_equals_reference(fresh, ids2, text_of, QUERIES)
    # damaged files: a truncated segment array, then a state that is not JSON
    seg = tmp_path / "bm25" / later.segments[0].name
    data = (seg / "docs.npy").read_bytes()
    (seg / "docs.npy").write_bytes(data[: len(data) // 2])
    rebuilt = _open(tmp_path, 6, ids2, text_of, calls)
    assert calls["built"] == 2
    _assert_equals_reference(rebuilt, ids2, text_of, QUERIES)
    (tmp_path / "bm25" / "gen-6" / "state.json").write_text("{half")
    _assert_equals_reference(_open(tmp_path, 6, ids2, text_of, calls), ids2, text_of, QUERIES)
    assert calls["built"] == 3
    assert json.loads((tmp_path / "bm25" / "gen-6" / "state.json").read_text())["generation"] == 6


def test_built_once_under_concurrency(tmp_path: Path, news: list[Any]) -> None:
    text_of = {i: a.text for i, a in enumerate(news[:150])}
    ids = np.arange(150, dtype=np.int64)
    calls = {"fetched": 0, "built": 0}
    results: list[FullTextIndex] = []

    def run() -> None:
        results.append(_open(tmp_path, 3, ids, text_of, calls))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls["built"] == 1 and len(results) == 4  # the flock serialises the builders
    scores = [r.get_scores("police officers") for r in results]
    for s in scores[1:]:
        np.testing.assert_array_equal(s, scores[0])


def test_embedded_store_keyword_incremental_with_filters(
    tmp_path: Path, minilm: Any, news: list[Any]
) -> None:
    from embedlab.stores import create_index, drop_index, update_index

    src = tmp_path / "docs"
    src.mkdir()

    def write(name: str, start: int, n: int) -> None:
        with open(src / name, "w") as f:
            for i in range(start, start + n):
                row = {"title": news[i].title, "text": news[i].text[:600], "part": str(i % 3)}
                f.write(json.dumps(row) + "\n")

    write("a.jsonl", 0, 14)
    write("b.jsonl", 14, 3)
    index = create_index("kw-incremental", [src], minilm)
    try:
        query = f"{news[3].title} {news[15].title} {news[31].title} said"
        index.keyword(query, 5)  # the first state, built from every text
        first = {p.name for p in (index.folder / "bm25").iterdir() if p.name.startswith("seg-")}
        (src / "b.jsonl").unlink()  # its chunks are deleted
        write("c.jsonl", 30, 6)  # new chunks
        update_index("kw-incremental", minilm)
        gen = index.generation
        ids, texts, meta = index.chunk_ids(), index.texts(), index.metadata()
        for expr in (None, Eq("part", "1"), In("part", ("0", "2"))):
            found = index.keyword(query, 8, expr)
            ref = _reference(texts, query)
            allowed = [r for r, m in enumerate(meta) if expr is None or expr.matches(m)]
            best = sorted(allowed, key=lambda r: (-ref[r], r))[:8]
            best = [r for r in best if ref[r] > 0]
            assert found.ids.tolist() == ids[best].tolist()
            np.testing.assert_allclose(found.scores, ref[best], rtol=1e-5)
            got = index.get_chunks(found.ids.tolist())
            assert all(not c.source.endswith("b.jsonl") for c in got)
            assert all(expr is None or expr.matches({"source": c.source, "title": c.title,
                                                     **c.metadata}) for c in got)  # fmt: skip
        segs = {p.name for p in (index.folder / "bm25").iterdir() if p.name.startswith("seg-")}
        assert first <= segs and len(segs) == len(first) + 1  # caught up: a segment added
        assert (index.folder / "bm25" / f"gen-{gen}" / "state.json").exists()
    finally:
        drop_index("kw-incremental")


def test_unwritable_folder_keeps_the_index_in_memory(tmp_path: Path, news: list[Any]) -> None:
    (tmp_path / "bm25").write_text("a file where the folder would be")
    text_of = {i: a.text for i, a in enumerate(news[:40])}
    calls = {"fetched": 0, "built": 0}
    ids = np.arange(40, dtype=np.int64)
    index = _open(tmp_path, 4, ids, text_of, calls)
    later = _open(tmp_path, 5, np.r_[ids[1:], 40], {**text_of, 40: news[40].text}, calls, index)
    assert calls == {"fetched": 1, "built": 1}  # caught up in memory from the prior
    _assert_equals_reference(later, np.r_[ids[1:], 40], {**text_of, 40: news[40].text}, QUERIES)
    assert (tmp_path / "bm25").read_text() == "a file where the folder would be"
