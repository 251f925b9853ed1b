"""Loaders: BEIR layout, pairs files, the title -> body maker, and every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedlab.errors import DatasetError
from embedlab.evaluate.datasets import DatasetWarning, load_beir, load_dataset, load_pairs
from embedlab.evaluate.make import TitledRecord, make_news_dataset, make_title_dataset


def write_beir(root: Path, corpus: list[dict], queries: list[dict], qrels: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "corpus.jsonl").write_text("".join(json.dumps(c) + "\n" for c in corpus))
    (root / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (root / "qrels").mkdir(exist_ok=True)
    (root / "qrels" / "test.tsv").write_text(qrels)
    return root


CORPUS = [
    {"_id": "d1", "title": "Cats", "text": "Cats purr."},
    {"_id": "d2", "title": "", "text": "Dogs bark."},
]
QUERIES = [{"_id": "q1", "text": "what purrs"}, {"_id": "q2", "text": "what barks"}]


def test_beir_roundtrip(tmp_path: Path) -> None:
    ds = load_beir(
        write_beir(
            tmp_path / "b", CORPUS, QUERIES, "query-id\tcorpus-id\tscore\nq1\td1\t2\nq2\td2\t1\n"
        )
    )
    assert ds.qrels == {"q1": {"d1": 2}, "q2": {"d2": 1}}
    assert ds.doc_texts() == ["Cats\nCats purr.", "Dogs bark."]
    assert ds.notes == [] and len(ds.corpus_hash()) == 16


def test_malformed_json_line_names_the_line(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "b", CORPUS, QUERIES, "q1\td1\t1\n")
    with open(root / "corpus.jsonl", "a") as f:
        f.write("{not json\n")
    with pytest.raises(DatasetError, match=r"corpus.jsonl:3: not valid JSON"):
        load_beir(root)


def test_missing_fields_and_duplicates(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "a", [{"_id": "d1"}], QUERIES, "q1\td1\t1\n")
    with pytest.raises(DatasetError, match=r":1: expected fields '_id' and 'text'"):
        load_beir(root)
    root = write_beir(tmp_path / "b", CORPUS + [CORPUS[0]], QUERIES, "q1\td1\t1\n")
    with pytest.raises(
        DatasetError, match=r"corpus.jsonl:3: duplicate document id 'd1' \(first on line 1\)"
    ):
        load_beir(root)


def test_malformed_qrels(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "a", CORPUS, QUERIES, "q1\td1\n")
    with pytest.raises(DatasetError, match=r"test.tsv:1: expected 3 tab-separated columns"):
        load_beir(root)
    root = write_beir(tmp_path / "b", CORPUS, QUERIES, "q1\td1\tyes\n")
    with pytest.raises(DatasetError, match=r"test.tsv:1: the grade 'yes' is not a number"):
        load_beir(root)


def test_dangling_and_unjudged_warned_not_silent(tmp_path: Path) -> None:
    qrels = "q1\td1\t1\nq1\tghost\t1\nq9\td2\t1\n"
    with pytest.warns(DatasetWarning) as record:
        ds = load_beir(write_beir(tmp_path / "b", CORPUS, QUERIES, qrels))
    text = " ".join(str(w.message) for w in record)
    assert "in no corpus" in text and "ghost" in text
    assert "not in the queries file" in text and "q9" in text
    assert "no judgments" in text and "q2" in text
    assert ds.qrels == {"q1": {"d1": 1}} and len(ds.notes) == 3


def test_nothing_left_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no query has a judgment.*ghost"):
        load_beir(write_beir(tmp_path / "b", CORPUS, QUERIES, "q1\tghost\t1\n"))
    with pytest.raises(DatasetError, match="grade 0"):
        load_beir(write_beir(tmp_path / "c", CORPUS, QUERIES, "q1\td1\t0\nq2\td2\t0\n"))


def test_pairs_tsv_and_csv(tmp_path: Path) -> None:
    (tmp_path / "corpus.tsv").write_text("id\ttext\nd1\tCats purr.\nd2\tDogs bark.\n")
    (tmp_path / "pairs.tsv").write_text(
        "query\tdoc\nwhat purrs\td1\nwhat barks\td2\nwhat purrs\td2\t0\n"
    )
    ds = load_dataset(tmp_path / "pairs.tsv")
    assert ds.queries == {"q1": "what purrs", "q2": "what barks"}
    assert ds.qrels == {"q1": {"d1": 1, "d2": 0}, "q2": {"d2": 1}}
    (tmp_path / "pairs.csv").write_text('"what, purrs",d1\n"bad line"\n')
    with pytest.raises(DatasetError, match=r"pairs.csv:2: expected 2 or 3 columns"):
        load_pairs(tmp_path / "pairs.csv", tmp_path / "corpus.tsv")


def test_make_title_dataset(tmp_path: Path) -> None:
    recs = [TitledRecord("a", "Cats purr", "All about cats."), TitledRecord("b", "", "untitled")]
    ds = make_title_dataset(recs, tmp_path / "t")
    assert ds.queries == {"qa": "Cats purr"} and ds.qrels == {"qa": {"a": 1}}
    assert ds.corpus["a"].title == ""  # the title is the query, never in the document
    with pytest.raises(DatasetError, match="same id|the id"):
        make_title_dataset([recs[0], recs[0]], tmp_path / "u")


def test_make_news_dataset(tmp_path: Path) -> None:
    ds = make_news_dataset(tmp_path / "news", limit=20, chars=300)
    assert len(ds.corpus) == 20 and len(ds.qrels) == 20
    again = load_dataset(tmp_path / "news")
    assert again.corpus_hash() == ds.corpus_hash()
