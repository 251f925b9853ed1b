"""Named test collections under ``home()/datasets``, and the hand-made query set.

- :func:`list_collections` / :func:`open_collection`: BEIR folders kept by name (what the
  web lab offers); ``news-<n>`` is made from the bundled news articles on first use.
- :func:`save_judgments`: the query-set builder's output. Queries searched in a stored index
  and the results marked relevant become a BEIR folder whose corpus is the index's chunks
  (ids are chunk ids), so the grid can run on it. Saving again under the same name adds
  queries and judgments.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.errors import DatasetError, InputError
from embedlab.evaluate.datasets import RetrievalDataset, load_beir
from embedlab.settings import home

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NEWS_RE = re.compile(r"^news-(\d+)$")
#: the news collection offered when none exists yet.
DEFAULT_NEWS = "news-200"


def collections_dir() -> Path:
    path = home() / "datasets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise InputError(
            f"{name!r} is not a usable name: use letters, digits, '-', '_' or '.', up to 64."
        )
    return name


def list_collections() -> list[str]:
    """Names of the stored collections, plus the default news one (made on first use)."""
    names = {p.name for p in collections_dir().iterdir() if (p / "corpus.jsonl").exists()}
    return sorted(names | {DEFAULT_NEWS})


def open_collection(name: str) -> RetrievalDataset:
    """A stored collection; ``news-<n>`` is made from the first n news articles if missing."""
    folder = collections_dir() / _check_name(name)
    if not (folder / "corpus.jsonl").exists():
        match = NEWS_RE.match(name)
        if not match:
            raise DatasetError(
                f"No test collection {name!r}: make one with 'embedlab eval make' into "
                f"{collections_dir()}, or build a query set in the lab."
            )
        from embedlab.evaluate.make import make_news_dataset

        return make_news_dataset(folder, limit=int(match.group(1)), chars=1000)
    return load_beir(folder)


@dataclass(frozen=True)
class Judgment:
    """One mark of the builder: this chunk is relevant (grade >= 1) or not (0) for this query."""

    query: str
    chunk_id: int
    grade: int = 1


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            q, d, g = line.split("\t")
            qrels.setdefault(q, {})[d] = int(g)
    return qrels


def _write_queries(folder: Path, queries: dict[str, str], qrels: dict[str, dict[str, int]]) -> None:
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as f:
        for qid, text in queries.items():
            f.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    with open(folder / "qrels.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for qid, docs in qrels.items():
            for did, grade in docs.items():
                f.write(f"{qid}\t{did}\t{grade}\n")


def save_judgments(name: str, index_name: str, judgments: list[Judgment]) -> RetrievalDataset:
    """Add ``judgments`` on stored index ``index_name`` to collection ``name`` (BEIR layout)."""
    from embedlab.stores import open_index

    if not judgments:
        raise InputError("Nothing to save: mark at least one result as relevant.")
    if not any(j.grade >= 1 for j in judgments):
        raise InputError("Every mark says 'not relevant': mark at least one relevant result.")
    folder = collections_dir() / _check_name(name)
    folder.mkdir(parents=True, exist_ok=True)
    meta_path = folder / "collection.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {"index": index_name}
    if meta.get("index") != index_name:
        raise InputError(
            f"Collection {name!r} holds judgments on index {meta.get('index')!r}, not "
            f"{index_name!r}: pick another name."
        )
    index = open_index(index_name)
    ids = [int(i) for i in index.chunk_ids()]
    known = set(ids)
    unknown = sorted({j.chunk_id for j in judgments} - known)
    if unknown:
        raise DatasetError(f"Chunks {unknown[:5]} are not in index {index_name!r} (any more).")
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as f:
        for page in index.iter_chunks():  # a page at a time: not every text at once
            for c in page:
                f.write(json.dumps({"_id": str(c.id), "text": c.text}, ensure_ascii=False) + "\n")
    queries = {q["_id"]: q["text"] for q in _read_jsonl(folder / "queries.jsonl")}
    by_text = {t: q for q, t in queries.items()}
    qrels = _read_qrels(folder / "qrels.tsv")
    for j in judgments:
        text = j.query.strip()
        if not text:
            raise InputError("A judgment has an empty query.")
        qid = by_text.setdefault(text, f"q{len(by_text) + 1}")
        queries[qid] = text
        qrels.setdefault(qid, {})[str(j.chunk_id)] = int(j.grade)
    _write_queries(folder, queries, qrels)
    meta_path.write_text(json.dumps(meta))
    return load_beir(folder)


__all__ = [
    "DEFAULT_NEWS",
    "Judgment",
    "collections_dir",
    "list_collections",
    "open_collection",
    "save_judgments",
]
