"""The store interface answers queries: index.search for every dense first stage equals
DenseIndex on the same vectors (ids mapped to chunk ids), filters (Eq/In/And/Or) equal a
Python computation over the metadata, a repeated filter reuses its restricted index, and the
paging readers give every row once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from embedlab.errors import InputError
from embedlab.search.memory import MemoryIndex
from embedlab.stores.base import Chunk, FirstStage, QueryIndex
from embedlab.stores.dense import DenseIndex
from embedlab.stores.filters import And, Eq, In, Or, filter_pairs, parse_filter
from embedlab.stores.keyword import BM25Index
from embedlab.stores.local import local_queries
from tests.stores.store_helpers import NewsCorpus

N, D = 600, 48
WORDS = [
    "river",
    "bank",
    "money",
    "loan",
    "water",
    "fish",
    "boat",
    "stone",
    "road",
    "field",
    "farm",
    "market",
]

STAGES = [
    FirstStage(exact=True),
    FirstStage(exact=False),  # FAISS IVF
    FirstStage(dims=16),
    FirstStage(quantize="int8"),
    FirstStage(quantize="binary"),
    FirstStage(dims=24, quantize="int8", candidates=30),
    FirstStage(dims=32, quantize="binary"),
]


@pytest.fixture(scope="module")
def synthetic() -> MemoryIndex:
    """600 random vectors with ids 1000.., three languages and five parts, random texts."""
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((N, D)).astype(np.float32)
    chunks = [
        Chunk(
            id=1000 + 7 * i,
            doc_id=i,
            text=" ".join(rng.choice(WORDS, size=8)),
            source=f"doc{i}.txt",
            position={"record": 0, "chunk": 0, "start": 0, "end": 1},
            metadata={"lang": ("en", "de", "fr")[i % 3], "part": i % 5},
        )
        for i in range(N)
    ]
    info = {"name": "synthetic", "fingerprint": "synthetic-1", "dims": D}
    return MemoryIndex("synthetic-query", chunks, vectors, info)


def queries(n: int = 6, seed: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, D)).astype(np.float32)


@pytest.mark.parametrize("stage", STAGES, ids=str)
def test_each_stage_equals_dense_index(synthetic: MemoryIndex, stage: FirstStage) -> None:
    q = queries()
    got = synthetic.search(q, 10, stage=stage)
    ref = DenseIndex(synthetic.vectors()).search(
        q, 10, dims=stage.dims, quantize=stage.quantize, candidates=stage.candidates,
        exact=stage.exact,
    )  # fmt: skip
    ids = synthetic.chunk_ids()
    assert got.ids.shape == (len(q), 10)
    np.testing.assert_array_equal(got.ids, ids[ref.ids])
    np.testing.assert_array_equal(got.scores, ref.scores)
    assert got.method == ref.method
    if ref.first_rank is None:
        assert got.first_rank is None and got.first_scores is None
    else:
        np.testing.assert_array_equal(got.first_rank, ref.first_rank)
        np.testing.assert_array_equal(got.first_scores, ref.first_stage)


def test_embedded_store_stages_equal_dense_index(news_corpus: NewsCorpus, minilm: Any) -> None:
    index = news_corpus.clean
    assert isinstance(index, QueryIndex)
    q = minilm.embed(["election results", "a storm hit the coast"], role="query")
    ids, dense = index.chunk_ids(), DenseIndex(index.vectors())
    for stage in [FirstStage(), FirstStage(dims=128), FirstStage(quantize="int8"),
                  FirstStage(quantize="binary")]:  # fmt: skip
        got = index.search(q, 5, stage=stage)
        ref = dense.search(q, 5, dims=stage.dims, quantize=stage.quantize)
        np.testing.assert_array_equal(got.ids, ids[ref.ids])
        np.testing.assert_allclose(got.scores, ref.scores, rtol=0, atol=1e-6)
    # more than there are rows: every row once
    everything = index.search(q[0], len(ids) + 50)
    assert sorted(everything.ids[0].tolist()) == sorted(ids.tolist())


FILTERS: list[tuple[Any, Callable[[dict[str, Any]], bool]]] = [
    (Eq("lang", "en"), lambda m: m["lang"] == "en"),
    (In("part", ("1", "3")), lambda m: m["part"] in (1, 3)),
    (And((Eq("lang", "de"), In("part", ("0", "2")))), lambda m: m["lang"] == "de" and m["part"] in (0, 2)),
    (Or((Eq("lang", "fr"), Eq("part", "4"))), lambda m: m["lang"] == "fr" or m["part"] == 4),
    (Or((And((Eq("lang", "en"), Eq("part", "0"))), Eq("source", "doc5.txt"))),
     lambda m: (m["lang"] == "en" and m["part"] == 0) or m["source"] == "doc5.txt"),
    (Eq("lang", "nl"), lambda m: False),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "check"), FILTERS, ids=[str(f[0]) for f in FILTERS])
def test_filters_equal_python(
    synthetic: MemoryIndex, expr: Any, check: Callable[[dict[str, Any]], bool]
) -> None:
    ids, meta = synthetic.chunk_ids(), synthetic.metadata()
    allowed = np.array([i for i, m in enumerate(meta) if check(m)], dtype=np.int64)
    assert synthetic.count(expr) == len(allowed)
    q = queries(3)
    got = synthetic.search(q, 20, filter=expr)
    if len(allowed) == 0:
        assert got.ids.shape == (3, 0)
        assert len(synthetic.keyword("river bank", 20, expr).ids) == 0
        return
    # exact cosine over the allowed rows, computed here
    v = synthetic.vectors()[allowed]
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    sims = qn @ v.T
    top = np.argsort(-sims, axis=1, kind="stable")[:, :20]
    np.testing.assert_array_equal(got.ids, ids[allowed[top]])
    np.testing.assert_allclose(got.scores, np.take_along_axis(sims, top, 1), atol=1e-5)
    # BM25 over all rows (collection statistics unchanged), allowed rows only
    scores = BM25Index(synthetic.texts()).get_scores("river bank")
    found = synthetic.keyword("river bank", 20, expr)
    keep = set(allowed.tolist())
    best = sorted((float(scores[i]) for i in keep if scores[i] > 0), reverse=True)[:20]
    np.testing.assert_allclose(found.scores, best, rtol=1e-6)  # the best allowed, in order
    row_of = {int(c): r for r, c in enumerate(ids)}
    rows = [row_of[int(c)] for c in found.ids]
    assert set(rows) <= keep and len(set(rows)) == len(rows)
    np.testing.assert_allclose(scores[rows], found.scores, rtol=1e-6)  # each its own score
    # a quantized first stage keeps to the filter too
    got8 = synthetic.search(q, 5, filter=expr, stage=FirstStage(quantize="int8"))
    assert set(got8.ids.ravel().tolist()) <= {int(ids[i]) for i in allowed}


def test_repeated_filter_reuses_its_rows_and_index(synthetic: MemoryIndex) -> None:
    local = local_queries(synthetic)
    expr = And((Eq("lang", "en"), In("part", ("1", "2"))))
    first = synthetic.search(queries(2), 5, filter=expr, stage=FirstStage(quantize="int8"))
    rows, sub = local.rows(expr), local._subsets[expr]
    again = synthetic.search(queries(2), 5, filter=expr, stage=FirstStage(quantize="int8"))
    assert local_queries(synthetic) is local
    assert local.rows(expr) is rows and local._subsets[expr] is sub  # not rebuilt
    np.testing.assert_array_equal(first.ids, again.ids)


def test_parse_filter_from_cli_strings() -> None:
    assert parse_filter(["lang=en"]) == Eq("lang", "en")
    assert parse_filter(["lang=en", " part = 1 "]) == And((Eq("lang", "en"), Eq("part", "1")))
    assert parse_filter({"lang": "en"}) == Eq("lang", "en")
    assert parse_filter([]) is None and parse_filter(None) is None
    expr = Or((Eq("a", "1"), In("b", ("2",))))
    assert parse_filter(expr) is expr
    assert filter_pairs(["a=1", "a=2"]) == {"a": "2"}  # the last value wins, as before
    with pytest.raises(InputError, match="Malformed filter"):
        parse_filter(["lang"])
    with pytest.raises(InputError, match="Malformed filter"):
        parse_filter(["=en"])


def test_unknown_field_is_refused(synthetic: MemoryIndex) -> None:
    with pytest.raises(InputError, match="No chunk has a field 'colour'.*lang"):
        synthetic.search(queries(1), 5, filter=Or((Eq("lang", "en"), Eq("colour", "red"))))
    with pytest.raises(InputError, match="colour"):
        synthetic.keyword("river", 5, In("colour", ("red",)))


def test_paging_readers_cover_every_row_once(news_corpus: NewsCorpus) -> None:
    index = news_corpus.clean
    ids, vectors = index.chunk_ids(), index.vectors()
    pages = list(index.iter_vectors(batch=7))
    assert all(len(p_ids) <= 7 and len(p_ids) == len(p_vec) for p_ids, p_vec in pages)
    np.testing.assert_array_equal(np.concatenate([p for p, _ in pages]), ids)
    np.testing.assert_array_equal(np.vstack([v for _, v in pages]), vectors)
    chunk_pages = list(index.iter_chunks(batch=5))
    assert all(1 <= len(p) <= 5 for p in chunk_pages)
    got = [c.id for p in chunk_pages for c in p]
    assert got == ids.tolist()
    texts = [c.text for p in chunk_pages for c in p]
    assert texts == index.texts()
    with pytest.raises(InputError, match="batch"):
        next(index.iter_vectors(batch=0))
