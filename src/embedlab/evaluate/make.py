"""Make a test collection from records with titles: title -> body pairs in the BEIR layout.

The news articles are the worked example (:func:`make_news_dataset`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.data.text import open_text
from embedlab.errors import DatasetError
from embedlab.evaluate.datasets import RetrievalDataset, _read_jsonl, load_beir


@dataclass(frozen=True)
class TitledRecord:
    """A record with a title and a body, the raw material of title -> body pairs."""

    id: str
    title: str
    body: str


def make_title_dataset(records: Iterable[TitledRecord], out: str | Path) -> RetrievalDataset:
    """Write title -> body pairs in the BEIR layout: the title is the query, its body the one
    relevant document (the corpus holds bodies only, so the title cannot match itself).

    :raises DatasetError: no usable record, or two records with the same id.
    """
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    (root / "qrels").mkdir(exist_ok=True)
    seen: set[str] = set()
    rows = []
    for r in records:
        if not r.title.strip() or not r.body.strip():
            continue
        if r.id in seen:
            raise DatasetError(f"Two records have the id {r.id!r}; ids must be unique.")
        seen.add(r.id)
        rows.append(r)
    if not rows:
        raise DatasetError("No record has both a title and a body: nothing to make pairs from.")
    with open(root / "corpus.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(
                json.dumps({"_id": r.id, "title": "", "text": r.body}, ensure_ascii=False) + "\n"
            )
    with open(root / "queries.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"_id": f"q{r.id}", "text": r.title}, ensure_ascii=False) + "\n")
    with open(root / "qrels" / "test.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for r in rows:
            f.write(f"q{r.id}\t{r.id}\t1\n")
    return load_beir(root)


def read_titled(
    path: str | Path, id_field: str = "id", title_field: str = "title", text_field: str = "text"
) -> list[TitledRecord]:
    """Records with titles from a ``.jsonl`` or a CSV/TSV with a header row."""
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"No file at {p}.")
    if p.suffix == ".jsonl":
        items: list[tuple[int, dict[str, Any]]] = list(_read_jsonl(p))
    else:
        with open_text(p, DatasetError, newline="") as f:
            reader = csv.DictReader(f, delimiter="," if p.suffix == ".csv" else "\t")
            items = [(i + 2, row) for i, row in enumerate(reader)]
    out = []
    for n, obj in items:
        missing = [k for k in (title_field, text_field) if k not in obj]
        if missing:
            raise DatasetError(f"{p}:{n}: no field {missing[0]!r}; fields are {sorted(obj)}.")
        rid = str(obj.get(id_field) or n)
        out.append(TitledRecord(rid, str(obj[title_field] or ""), str(obj[text_field] or "")))
    return out


def make_news_dataset(
    out: str | Path, limit: int | None = None, chars: int | None = None
) -> RetrievalDataset:
    """The worked example: news titles -> their articles (``chars`` keeps each article's lead)."""
    from embedlab.data import news_articles

    records = [
        TitledRecord(a.article_id, a.title, a.text[:chars] if chars else a.text)
        for a in news_articles(limit=limit)
    ]
    return make_title_dataset(records, out)


__all__ = ["TitledRecord", "make_news_dataset", "make_title_dataset", "read_titled"]
