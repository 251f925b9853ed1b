"""Indexes in a real Milvus Lite server (started by tests/scale/conftest.py on 127.0.0.1):
every first stage, BM25, hybrid and filters against the embedded store on the same files."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from embedlab.data.demo_corpus import demo_path
from embedlab.errors import (
    FingerprintMismatchError,
    IndexExistsError,
    IndexNotFoundError,
    InputError,
    MilvusUnreachableError,
    NotAnIndexError,
)
from embedlab.models import Encoder
from embedlab.stores import And, Eq, FirstStage, In, Or, create_index, open_index
from embedlab.stores.milvus import MilvusIndex
from embedlab.stores.milvus_client import to_expression
from tests.scale.conftest import drop_indexes, free_port
from tests.scale.scale_helpers import MemoEncoder, keys, recall
from tests.stores.store_helpers import write_news

QUERIES = [
    "how do astronauts keep their bones strong",
    "football rules about offside",
    "cooking pasta at home",
    "election results and politics",
    "stock markets fell",
]
STAGES = [
    FirstStage(exact=True),
    FirstStage(dims=128),
    FirstStage(quantize="binary"),
    FirstStage(quantize="int8"),
]


@pytest.fixture(scope="module", autouse=True)
def _drop_after(milvus: str) -> Iterator[None]:
    yield
    drop_indexes(milvus, ("scale-pair-embedded", "scale-long-embedded"))


@pytest.fixture(scope="module")
def pair(milvus: str, minilm: Encoder, tmp_path_factory: pytest.TempPathFactory):
    """The demo corpus and 12 news articles, indexed in Milvus and in the embedded store."""
    folder = tmp_path_factory.mktemp("scale-news")
    write_news(folder, 12, max_chars=1200)
    sources = [demo_path(), folder]
    encoder = MemoEncoder(minilm)  # each chunk embedded once for both stores
    m = create_index("scale_pair", sources, encoder, store=milvus)
    e = create_index("scale-pair-embedded", sources, encoder, store="embedded")
    return m, e


def test_rows_and_readers_match(pair) -> None:
    m, e = pair
    assert isinstance(m, MilvusIndex) and m.stats().engine.startswith("milvus")
    assert len(m) == len(e) == m.count()
    assert m.report.chunks_embedded == len(e)
    assert sorted(m.texts()) == sorted(e.texts())
    # the paging readers give every row once, with the vectors the embedded store holds
    seen = {}
    for ids, vecs in m.iter_vectors(batch=50):
        for i, v in zip(ids, vecs, strict=True):
            seen[int(i)] = v
    assert len(seen) == len(m)
    by_key = dict(zip(keys(m, np.array(list(seen))), seen.values(), strict=True))
    ev = e.vectors()
    for key, row in zip(keys(e, e.chunk_ids()), ev, strict=True):
        assert float(by_key[key] @ row) > 0.9999
    chunks = [c for page in m.iter_chunks(batch=40) for c in page]
    assert len({c.id for c in chunks}) == len(m)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: str(s.dims or s.quantize or "exact"))
def test_exact_stages_identical(pair, minilm: Encoder, stage: FirstStage) -> None:
    m, e = pair
    q = minilm.embed(QUERIES, role="query")
    a, b = m.search(q, 10, stage=stage), e.search(q, 10, stage=stage)
    for qi in range(len(QUERIES)):
        assert keys(m, a.ids[qi]) == keys(e, b.ids[qi])
        np.testing.assert_allclose(a.scores[qi], b.scores[qi], atol=1e-5)
    if stage.quantize == "binary":  # Hamming in Milvus = Hamming in FAISS
        np.testing.assert_array_equal(a.first_scores, b.first_scores)
        np.testing.assert_array_equal(a.first_rank, b.first_rank)
    if stage.dims:
        np.testing.assert_allclose(a.first_scores, b.first_scores, atol=2e-3)  # bf16 there


def test_ann_recall(pair, minilm: Encoder) -> None:
    m, e = pair
    q = minilm.embed(QUERIES, role="query")
    a = m.search(q, 10, stage=FirstStage(exact=False))
    b = e.search(q, 10, stage=FirstStage(exact=True))
    assert a.method == "ann"
    r = np.mean([recall(keys(m, a.ids[i]), keys(e, b.ids[i])) for i in range(len(QUERIES))])
    assert r >= 0.95


def test_bm25_in_milvus(pair) -> None:
    m, e = pair
    total = []
    for query in QUERIES:
        a, b = m.keyword(query, 10), e.keyword(query, 10)
        assert a.method == "bm25(milvus)"
        assert np.all(np.diff(a.scores) <= 1e-6) and np.all(a.scores > 0)
        total.append(recall(keys(m, a.ids), keys(e, b.ids)))
        # same tokens, k1 and b; Milvus' idf is Lucene's log(1 + (N - n + .5) / (n + .5)),
        # the embedded store's Okapi's: the best hit agrees, the lists nearly
        assert keys(m, a.ids[:1]) == keys(e, b.ids[:1])
    assert np.mean(total) >= 0.9


def test_hybrid_search_is_embedlabs_rrf(pair, minilm: Encoder) -> None:
    from embedlab.search.fusion import rrf

    m, _ = pair
    for query in QUERIES:
        qv = minilm.embed([query], role="query")
        fused = m.hybrid(query, qv, 10, depth=20)
        dense = m.search(qv, 20, stage=FirstStage(exact=True)).ids[0]
        bm25 = m.keyword(query, 20).ids
        ours = rrf([list(map(int, bm25)), list(map(int, dense))], k=60)[:10]
        assert [i for i, _ in ours] == list(fused.ids) or (
            # equal fused scores may come in either order
            sorted(s for _, s in ours) == pytest.approx(sorted(fused.scores), abs=1e-6)
        )
        np.testing.assert_allclose(sorted(s for _, s in ours), sorted(fused.scores), atol=1e-6)


@pytest.mark.parametrize(
    "expr",
    [
        Eq("lang", "en"),
        Eq("topic", "space"),
        In("topic", ("football", "cooking")),
        And((Eq("lang", "en"), Or((Eq("topic", "space"), Eq("topic", "health"))))),
    ],
    ids=["eq", "eq2", "in", "and-or"],
)
def test_filters(pair, minilm: Encoder, expr) -> None:
    m, e = pair
    assert m.count(expr) == e.count(expr)
    q = minilm.embed(QUERIES[:2], role="query")
    a = m.search(q, 5, filter=expr, stage=FirstStage(exact=True))
    b = e.search(q, 5, filter=expr, stage=FirstStage(exact=True))
    for qi in range(2):
        assert keys(m, a.ids[qi]) == keys(e, b.ids[qi])
        for c in m.get_chunks(a.ids[qi]):
            assert expr.matches({"source": c.source, "title": c.title, **c.metadata})
    assert keys(m, m.keyword("football", 5, expr).ids) == keys(
        e, e.keyword("football", 5, expr).ids
    )


def test_filter_expression_and_unknown_field(pair) -> None:
    m, _ = pair
    assert to_expression(In("a", ('x"y',))) == 'fields["a"] == "x\\"y"'
    with pytest.raises(InputError, match="No chunk has a field 'nope'"):
        m.count(Eq("nope", "1"))


def test_opened_by_name_and_listed(pair, milvus: str) -> None:
    from embedlab.stores import survey_indexes

    m, _ = pair
    again = open_index("scale_pair")
    assert isinstance(again, MilvusIndex) and again.store == milvus
    engines = {e.name: e.stats.engine for e in survey_indexes() if e.stats}
    assert engines["scale_pair"] == f"milvus ({milvus})"
    assert engines["scale-pair-embedded"] == "embedded"
    with pytest.raises(IndexExistsError):
        create_index("scale_pair", [demo_path()], "minilm", store=milvus)
    with pytest.raises(IndexNotFoundError, match="holds index 'scale_pair'"):
        open_index("scale-pair", store=milvus)  # the same collection name, another index


def test_fingerprint_refused(pair, glove: Encoder) -> None:
    m, _ = pair
    with pytest.raises(FingerprintMismatchError) as err:
        open_index("scale_pair").check_model(glove)
    assert "minilm" in str(err.value) and glove.info.name in str(err.value)
    from embedlab.stores import update_index

    with pytest.raises(FingerprintMismatchError, match=glove.info.fingerprint):
        update_index("scale_pair", glove)


def test_not_an_index(milvus: str) -> None:
    from pymilvus import MilvusClient

    from embedlab.stores.milvus_client import connect

    client: MilvusClient = connect(milvus)
    client.create_collection("someone_elses", dimension=4)
    with pytest.raises(NotAnIndexError, match="someone_elses.*not an embedlab index"):
        open_index("someone_elses", store=milvus)


def test_unreachable(minilm: Encoder) -> None:
    uri = f"milvus://127.0.0.1:{free_port()}"
    with pytest.raises(MilvusUnreachableError) as err:
        open_index("x", store=uri)
    assert uri in str(err.value) and "unreachable" in str(err.value)
    with pytest.raises(MilvusUnreachableError, match=uri):
        create_index("x", [demo_path()], minilm, store=uri)


def test_server_without_bm25_falls_back(milvus: str, minilm: Encoder) -> None:
    """A collection made without the BM25 function (as against Milvus before 2.5): keyword
    search says so and runs locally; hybrid_search is refused with the reason."""
    from embedlab.errors import BM25UnavailableError
    from embedlab.stores.chunking import ChunkSettings
    from embedlab.stores.milvus_writer import create_milvus

    m = create_milvus("scale_nobm25", [demo_path()], milvus, MemoEncoder(minilm),
                      chunking=ChunkSettings(), full_text=False)  # fmt: skip
    e = open_index("scale-pair-embedded")
    with pytest.warns(UserWarning, match="no BM25 function.*local BM25"):
        found = m.keyword("offside rule", 5)
    assert found.method == "bm25(local)"
    assert (
        m.get_chunks(found.ids[:1])[0].text
        == e.get_chunks(e.keyword("offside rule", 1).ids)[0].text
    )
    with pytest.raises(BM25UnavailableError, match="fused with Milvus' dense"):
        m.hybrid("offside rule", minilm.embed(["offside rule"], role="query"), 5)


def test_web_search_page_over_milvus(pair, minilm: Encoder) -> None:
    """The Search page's routes open the Milvus index by name like any other; the dense
    scores they show are the cosines of the query and each chunk, recomputed here."""
    import httpx

    from embedlab.server.app import create_app
    from tests.conftest import run_async

    async def calls() -> tuple[list[str], dict, dict]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            names = [i["name"] for i in (await c.get("/lab/search/indexes")).json()["indexes"]]
            body = {"index": "scale_pair", "query": QUERIES[1], "k": 5, "mode": "dense"}
            dense = await c.post("/lab/search", json=body)
            assert dense.status_code == 200, dense.text
            hybrid = await c.post("/lab/search", json={**body, "mode": "hybrid"})
            assert hybrid.status_code == 200, hybrid.text
            return names, dense.json(), hybrid.json()

    names, dense, hybrid = run_async(calls)
    assert "scale_pair" in names
    hits = dense["result"]["hits"]
    q = minilm.embed([QUERIES[1]], role="query")[0]
    d = minilm.embed([h["chunk"]["text"] for h in hits], role="document")
    np.testing.assert_allclose([h["score"] for h in hits], d @ q, atol=1e-4)
    assert "offside" in hybrid["result"]["hits"][0]["chunk"]["text"].lower()


def test_stage_without_a_field_runs_here_and_says_so(pair, minilm: Encoder) -> None:
    """--dims 64 (the prefix field holds 128): the first stage runs in this process over
    the index's vectors, with a warning naming why; the result is the embedded store's."""
    m, e = pair
    q = minilm.embed(QUERIES[:2], role="query")
    stage = FirstStage(dims=64)
    with pytest.warns(UserWarning, match="prefix field holds 128 dims, not 64"):
        a = m.search(q, 10, stage=stage)
    b = e.search(q, 10, stage=stage)
    assert a.method.endswith("(local)")
    for qi in range(2):
        assert keys(m, a.ids[qi]) == keys(e, b.ids[qi])
        np.testing.assert_allclose(a.scores[qi], b.scores[qi], atol=1e-5)


def test_vectors_of_fetches_only_the_ids_asked_for(pair, monkeypatch) -> None:
    """MilvusIndex.vectors_of reads the rows by primary key (the whole-collection reader is
    not called) and gives the embedded store's stored vectors of the same chunks, in the
    order asked, repeats included."""
    m, e = pair
    e_ids = [int(i) for i in e.chunk_ids()]
    picked = [e_ids[7], e_ids[0], e_ids[-1], e_ids[7], e_ids[len(e_ids) // 2]]
    m_by_key = {k: int(i) for k, i in zip(keys(m, m.chunk_ids()), m.chunk_ids(), strict=True)}
    m_ids = [m_by_key[k] for k in keys(e, np.array(picked))]

    def whole(*_args: object, **_kw: object) -> None:
        raise AssertionError("vectors_of read the whole collection")

    monkeypatch.setattr(m, "vectors", whole)
    monkeypatch.setattr(m, "_snapshot", whole)
    got = m.vectors_of(m_ids)
    assert got.shape == (5, m.dims) and got.dtype == np.float32
    np.testing.assert_allclose(got, e.vectors_of(picked), atol=1e-6)
    np.testing.assert_array_equal(got[0], got[3])
    assert m.vectors_of([]).shape == (0, m.dims)
    with pytest.raises(InputError, match="has no chunk with id 12345"):
        m.vectors_of([m_ids[0], 12345])


def test_a_long_single_line_file_chunks_as_in_the_embedded_store(
    milvus: str, minilm: Encoder, tmp_path, monkeypatch
) -> None:
    """A line longer than the reader's piece comes in several blocks; Milvus chunks them as
    one text (stores.writer.chunk_file), like the embedded store: same chunks, offsets."""
    from embedlab.stores import ingest

    monkeypatch.setattr(ingest, "BLOCK_CHARS", 600)  # blocks of 1,200 chars, cut mid-line
    words = open_index("scale-pair-embedded").texts()
    line = " ".join(" ".join(words).split())[:5000]  # every text: 5,000 chars in any row order
    assert len(line) == 5000
    path = tmp_path / "long.txt"
    path.write_text(line)  # one line, no newline
    blocks = list(ingest.read_file(path, ingest.ReadOptions()))
    assert len(blocks) >= 3 and all(b.more for b in blocks[:-1])  # the cut is exercised
    encoder = MemoEncoder(minilm)
    m = create_index("scale_long", [path], encoder, store=milvus)
    e = create_index("scale-long-embedded", [path], encoder, store="embedded")

    def rows(index) -> list[tuple[int, int, int, int, str]]:
        chunks = index.get_chunks([int(i) for i in index.chunk_ids()])
        return sorted(
            (c.position["record"], c.position["chunk"], c.position["start"], c.position["end"],
             c.text) for c in chunks
        )  # fmt: skip

    got, want = rows(m), rows(e)
    assert len(want) > 4
    assert got == want
    assert [line[s:t] for _, _, s, t, _ in got] == [text for *_, text in got]


def test_search_hybrid_runs_milvus_hybrid_search(pair, minilm: Encoder, monkeypatch) -> None:
    """search --mode hybrid over a Milvus index fuses in Milvus (MilvusIndex.hybrid, each
    retriever HYBRID_DEPTH deep, the same RRF k); its final ranking is embedlab's RRF of the
    bm25 and dense stages the result also traces. With RRF weights or a Matryoshka first
    stage (which hybrid_search cannot express) the fusion stays here."""
    from embedlab.search.pipeline import search
    from embedlab.search.retrieve import HYBRID_DEPTH

    m, e = pair
    calls: list[dict[str, object]] = []
    real = m.hybrid

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(m, "hybrid", spy)
    for query in QUERIES[:3]:
        got = search(m, query, encoder=minilm, mode="hybrid", k=10)
        assert len(got.hits) == 10
        assert calls[-1]["depth"] == HYBRID_DEPTH and calls[-1]["rrf_k"] == 60
        # each hit's score is RRF of its traced bm25 and dense ranks: 1 / (60 + rank)
        want = [
            sum(1 / (60 + t.rank) for s in ("bm25", "dense") if (t := h.stages[s]).rank)
            for h in got.hits
        ]
        np.testing.assert_allclose([h.score for h in got.hits], want, atol=1e-6)
        assert [h.stages["fused"].rank for h in got.hits] == list(range(1, 11))
        # weights (1, 1) are plain RRF, fused here (hybrid_search takes no weights)
        n = len(calls)
        local = search(m, query, encoder=minilm, mode="hybrid", k=10, weights=[1.0, 1.0])
        assert len(calls) == n
        np.testing.assert_allclose([h.score for h in got.hits],
                                   [h.score for h in local.hits], atol=1e-6)  # fmt: skip
        if len({round(h.score, 6) for h in local.hits}) == 10:  # no ties: the same order
            assert [h.chunk.id for h in got.hits] == [h.chunk.id for h in local.hits]
    n = len(calls)
    search(m, QUERIES[0], encoder=minilm, mode="hybrid", k=10, dims=128)
    assert len(calls) == n  # a Matryoshka first stage is not Milvus' float dense request
