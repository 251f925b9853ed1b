"""Test collections: the BEIR layout, simple (query, relevant doc id) files, and a maker.

- BEIR: a folder with ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl``
  (``_id``, ``text``) and ``qrels/test.tsv`` or ``qrels.tsv`` (``query-id``, ``corpus-id``,
  ``score``; a header line is optional).
- Pairs: a TSV or CSV of ``query, relevant doc id[, grade]`` plus a corpus file
  (``corpus.jsonl`` or a TSV/CSV of ``id, text[, title]``).
- :mod:`embedlab.evaluate.make` turns records with titles into title -> body pairs in the
  BEIR layout.

Problems never turn into a silent zero: malformed lines and duplicate ids raise
:class:`DatasetError` with the file and line; judgments that point at no document, and
queries without judgments, are dropped with a :class:`DatasetWarning` that is also kept in
:attr:`RetrievalDataset.notes`.
"""

from __future__ import annotations

import csv
import hashlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.data.jsonl import json_lines
from embedlab.data.text import open_text
from embedlab.errors import DatasetError


class DatasetWarning(UserWarning):
    """Something in a data set was dropped or merged; the message says what and where."""


@dataclass(frozen=True)
class Document:
    """One corpus document."""

    id: str
    text: str
    title: str = ""

    @property
    def full_text(self) -> str:
        """Title and text, as BEIR evaluations embed them."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass
class RetrievalDataset:
    """A corpus, queries and graded judgments (query id -> doc id -> grade)."""

    name: str
    corpus: dict[str, Document]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    notes: list[str] = field(default_factory=list)

    @property
    def doc_ids(self) -> list[str]:
        return list(self.corpus)

    def doc_texts(self) -> list[str]:
        """Texts to index, aligned with :attr:`doc_ids`."""
        return [d.full_text for d in self.corpus.values()]

    @property
    def judged_queries(self) -> dict[str, str]:
        """The queries that have judgments (the ones a run is scored on)."""
        return {q: t for q, t in self.queries.items() if q in self.qrels}

    def corpus_hash(self) -> str:
        """A short hash of the corpus ids and texts (keys the embedding cache)."""
        h = hashlib.sha256()
        for d in self.corpus.values():
            h.update(d.id.encode() + b"\x00" + d.full_text.encode() + b"\x01")
        return h.hexdigest()[:16]

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "documents": len(self.corpus),
            "queries": len(self.judged_queries),
            "judgments": sum(len(j) for j in self.qrels.values()),
            "notes": self.notes,
        }


# --- reading ---------------------------------------------------------------------------


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    return json_lines(
        path,
        DatasetError,
        hint='; each line must be one JSON object like {"_id": "d1", "text": "..."}',
    )


def _id_text(path: Path, n: int, obj: dict[str, Any]) -> tuple[str, str]:
    key = "_id" if "_id" in obj else "id"
    if key not in obj or "text" not in obj:
        raise DatasetError(f"{path}:{n}: expected fields '_id' and 'text', found {sorted(obj)}.")
    return str(obj[key]), str(obj["text"] or "")


def _no_duplicate(seen: dict[str, int], key: str, path: Path, n: int, what: str) -> None:
    if key in seen:
        raise DatasetError(
            f"{path}:{n}: duplicate {what} id {key!r} (first on line {seen[key]}); ids must be unique."
        )
    seen[key] = n


def read_corpus_jsonl(path: Path) -> dict[str, Document]:
    seen: dict[str, int] = {}
    corpus = {}
    for n, obj in _read_jsonl(path):
        did, text = _id_text(path, n, obj)
        _no_duplicate(seen, did, path, n, "document")
        corpus[did] = Document(did, text, str(obj.get("title") or ""))
    return corpus


def read_queries_jsonl(path: Path) -> dict[str, str]:
    seen: dict[str, int] = {}
    queries = {}
    for n, obj in _read_jsonl(path):
        qid, text = _id_text(path, n, obj)
        _no_duplicate(seen, qid, path, n, "query")
        queries[qid] = text
    return queries


def _delimited_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    delimiter = "," if path.suffix.lower() == ".csv" else "\t"
    with open_text(path, DatasetError, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        for row in reader:
            if row and any(c.strip() for c in row):
                yield reader.line_num, [c.strip() for c in row]


def _grade(path: Path, n: int, value: str) -> int:
    try:
        return int(float(value))
    except ValueError as exc:
        raise DatasetError(
            f"{path}:{n}: the grade {value!r} is not a number; expected an integer like 0, 1 or 2."
        ) from exc


def read_qrels_tsv(path: Path) -> tuple[dict[str, dict[str, int]], list[str]]:
    """``query-id  corpus-id  score`` rows (also trec's ``qid 0 docid grade``)."""
    qrels: dict[str, dict[str, int]] = {}
    notes: list[str] = []
    for n, row in _delimited_rows(path):
        if len(row) == 1 and " " in row[0]:
            row = row[0].split()
        if n == 1 and row[-1].lower() in ("score", "relevance", "grade", "label"):
            continue  # header
        if len(row) == 4:
            row = [row[0], row[2], row[3]]  # trec qrels: qid iter docid grade
        if len(row) != 3:
            raise DatasetError(
                f"{path}:{n}: expected 3 tab-separated columns (query-id, corpus-id, score), "
                f"found {len(row)}: {row!r}."
            )
        qid, did, grade = row[0], row[1], _grade(path, n, row[2])
        if did in qrels.get(qid, {}):
            notes.append(f"{path.name}:{n}: ({qid}, {did}) judged twice; keeping the higher grade.")
            grade = max(grade, qrels[qid][did])
        qrels.setdefault(qid, {})[did] = grade
    return qrels, notes


def _table_corpus(path: Path) -> dict[str, Document]:
    rows = list(_delimited_rows(path))
    if rows and rows[0][1][:2] in (["id", "text"], ["_id", "text"], ["doc_id", "text"]):
        rows = rows[1:]
    seen: dict[str, int] = {}
    corpus = {}
    for n, row in rows:
        if len(row) < 2:
            raise DatasetError(f"{path}:{n}: expected columns id, text[, title]; found {row!r}.")
        _no_duplicate(seen, row[0], path, n, "document")
        corpus[row[0]] = Document(row[0], row[1], row[2] if len(row) > 2 else "")
    return corpus


def read_corpus(path: Path) -> dict[str, Document]:
    """A corpus from ``.jsonl`` or a TSV/CSV of ``id, text[, title]``."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"No corpus file at {path}.")
    return read_corpus_jsonl(path) if path.suffix == ".jsonl" else _table_corpus(path)


# --- checking --------------------------------------------------------------------------


def _drop_dangling(ds: RetrievalDataset) -> None:
    """Drop judgments of unknown queries or documents, with a note for each kind."""
    unknown_docs: dict[str, int] = {}
    unknown_queries = sorted(q for q in ds.qrels if q not in ds.queries)
    for qid in unknown_queries:
        del ds.qrels[qid]
    for qid, judged in list(ds.qrels.items()):
        for did in [d for d in judged if d not in ds.corpus]:
            unknown_docs[did] = unknown_docs.get(did, 0) + 1
            del judged[did]
        if not judged:
            del ds.qrels[qid]
    if unknown_queries:
        ds.notes.append(
            f"{len(unknown_queries)} judged query ids are not in the queries file and were "
            f"dropped (e.g. {', '.join(unknown_queries[:3])})."
        )
    if unknown_docs:
        ds.notes.append(
            f"{sum(unknown_docs.values())} judgments name {len(unknown_docs)} document ids that "
            f"are in no corpus and were dropped (e.g. {', '.join(list(unknown_docs)[:3])})."
        )


def _check(ds: RetrievalDataset) -> RetrievalDataset:
    """Drop judgments that point nowhere and report queries without judgments."""
    if not ds.corpus:
        raise DatasetError(f"{ds.name}: the corpus is empty; add documents before evaluating.")
    if not ds.queries:
        raise DatasetError(f"{ds.name}: there are no queries.")
    _drop_dangling(ds)
    unjudged = [q for q in ds.queries if q not in ds.qrels]
    if unjudged:
        ds.notes.append(
            f"{len(unjudged)} queries have no judgments and are not scored "
            f"(e.g. {', '.join(unjudged[:3])})."
        )
    if not ds.qrels:
        raise DatasetError(
            f"{ds.name}: no query has a judgment that points at a document in the corpus; "
            "check that the qrels use the same ids as corpus and queries. " + " ".join(ds.notes)
        )
    if not any(g >= 1 for j in ds.qrels.values() for g in j.values()):
        raise DatasetError(f"{ds.name}: every judgment has grade 0, so nothing is relevant.")
    for note in ds.notes:
        warnings.warn(note, DatasetWarning, stacklevel=3)
    return ds


# --- public loaders --------------------------------------------------------------------


def load_beir(folder: str | Path, split: str = "test") -> RetrievalDataset:
    """A BEIR-layout folder: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv`` or
    ``qrels.tsv``."""
    root = Path(folder)
    for name in ("corpus.jsonl", "queries.jsonl"):
        if not (root / name).exists():
            raise DatasetError(
                f"{root} has no {name}: a BEIR folder holds corpus.jsonl, "
                "queries.jsonl and qrels/test.tsv (or qrels.tsv)."
            )
    qrels_path = next(
        (p for p in (root / "qrels" / f"{split}.tsv", root / "qrels.tsv") if p.exists()), None
    )
    if qrels_path is None:
        raise DatasetError(f"{root} has no qrels/{split}.tsv or qrels.tsv.")
    qrels, notes = read_qrels_tsv(qrels_path)
    ds = RetrievalDataset(
        root.name,
        read_corpus_jsonl(root / "corpus.jsonl"),
        read_queries_jsonl(root / "queries.jsonl"),
        qrels,
        notes,
    )
    return _check(ds)


def load_pairs(pairs: str | Path, corpus: str | Path) -> RetrievalDataset:
    """A TSV/CSV of ``query, relevant doc id[, grade]`` against a corpus file.

    Each distinct query text becomes one query (``q1``, ``q2``... in order of appearance).
    """
    path = Path(pairs)
    if not path.exists():
        raise DatasetError(f"No pairs file at {path}.")
    queries: dict[str, str] = {}
    by_text: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    notes: list[str] = []
    for n, row in _delimited_rows(path):
        if n == 1 and row[0].lower() in ("query", "question"):
            continue
        if len(row) not in (2, 3) or not row[0] or not row[1]:
            raise DatasetError(
                f"{path}:{n}: expected 2 or 3 columns (query, relevant doc id[, grade]), "
                f"found {row!r}."
            )
        qid = by_text.setdefault(row[0], f"q{len(by_text) + 1}")
        queries[qid] = row[0]
        grade = _grade(path, n, row[2]) if len(row) == 3 else 1
        if row[1] in qrels.get(qid, {}):
            notes.append(f"{path.name}:{n}: the pair ({row[0][:40]!r}, {row[1]}) appears twice.")
        qrels.setdefault(qid, {})[row[1]] = grade
    return _check(RetrievalDataset(path.stem, read_corpus(Path(corpus)), queries, qrels, notes))


def load_dataset(path: str | Path, corpus: str | Path | None = None) -> RetrievalDataset:
    """A BEIR folder, or a pairs file (with ``corpus``, or a ``corpus.*`` next to it)."""
    p = Path(path)
    if p.is_dir():
        return load_beir(p)
    if not p.exists():
        raise DatasetError(f"No data set at {p}: give a BEIR folder or a query/doc-id file.")
    if corpus is None:
        near = [c for c in p.parent.glob("corpus.*") if c.suffix in (".jsonl", ".tsv", ".csv")]
        if not near:
            raise DatasetError(f"{p} is a pairs file: name its corpus too (--corpus FILE).")
        corpus = near[0]
    return load_pairs(p, corpus)


__all__ = [
    "DatasetWarning",
    "Document",
    "RetrievalDataset",
    "load_beir",
    "load_dataset",
    "load_pairs",
    "read_corpus",
    "read_qrels_tsv",
]
