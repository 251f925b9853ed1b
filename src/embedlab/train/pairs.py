"""Training pairs (anchor, positive[, negative]): from JSONL, an index, or the news set.

A pairs file is JSONL, one object per line with ``anchor`` and ``positive`` (``query`` is
accepted for ``anchor``) and optionally ``negative``. :func:`split_pairs` keeps a held-out
part that :func:`heldout_dataset` turns into a retrieval test (anchors are the queries,
every held-out positive a document) for the shared metrics.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.data.jsonl import json_lines
from embedlab.errors import DatasetError
from embedlab.evaluate.datasets import Document, RetrievalDataset

ANCHOR_KEYS: tuple[str, ...] = ("anchor", "query")
POSITIVE_KEYS: tuple[str, ...] = ("positive",)


@dataclass(frozen=True)
class Pair:
    """One training example: the anchor should be nearer the positive than anything else."""

    anchor: str
    positive: str
    negative: str | None = None


def _field(obj: dict[str, object], keys: Sequence[str], path: Path, n: int) -> str:
    for k in keys:
        v = obj.get(k)
        if isinstance(v, str) and v.strip():
            return v
    raise DatasetError(
        f"{path}:{n}: missing or empty {' / '.join(repr(k) for k in keys)}; each line needs "
        '{"anchor": "...", "positive": "..."} (and optionally "negative").'
    )


def load_pairs(path: str | Path) -> list[Pair]:
    """Read a pairs JSONL file.

    :raises DatasetError: the file is missing, a line is not JSON, or lacks a field (with its line number).
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise DatasetError(f"Pairs file {p} does not exist.")
    pairs = []
    for n, obj in json_lines(p, DatasetError):
        neg = obj.get("negative")
        if neg is not None and not (isinstance(neg, str) and neg.strip()):
            raise DatasetError(f"{p}:{n}: 'negative' must be a non-empty string when given.")
        pairs.append(Pair(_field(obj, ANCHOR_KEYS, p, n), _field(obj, POSITIVE_KEYS, p, n), neg))
    if not pairs:
        raise DatasetError(f"Pairs file {p} holds no pairs.")
    return pairs


def save_pairs(pairs: Sequence[Pair], path: str | Path) -> None:
    """Write pairs as JSONL (the format :func:`load_pairs` reads)."""
    with open(path, "w", encoding="utf-8") as f:
        for p in pairs:
            obj = {"anchor": p.anchor, "positive": p.positive}
            if p.negative is not None:
                obj["negative"] = p.negative
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")


def news_pairs(limit: int | None = None, max_chars: int = 1000) -> list[Pair]:
    """Title -> article pairs from the news set (text cut to ``max_chars``)."""
    from embedlab.data import news_articles

    return [Pair(a.title, a.text[:max_chars]) for a in news_articles(limit)]


def news_split(
    train: int, heldout: int, distractors: int = 0, *, max_chars: int = 600, seed: int = 0
) -> tuple[list[Pair], RetrievalDataset]:
    """News pairs for training, and a held-out retrieval test on other articles.

    The news set is shuffled once (``seed``); the first ``heldout`` titles are the queries,
    the next ``train`` pairs are for training, and the held-out titles search their articles
    among the training articles and ``distractors`` more that nobody trains on, so the test
    is not confined to the few articles a short run trains with.

    :raises DatasetError: the news set has fewer articles than asked for.
    """
    from embedlab.data import news_articles

    articles = news_articles()
    if heldout + train + distractors > len(articles):
        raise DatasetError(
            f"The news set has {len(articles)} articles; {heldout} held out + {train} to train "
            f"on + {distractors} distractors is {heldout + train + distractors}: ask for fewer."
        )
    order = np.random.default_rng(seed).permutation(len(articles))
    pairs = [Pair(articles[i].title, articles[i].text[:max_chars]) for i in order]
    held, rest = pairs[:heldout], pairs[heldout : heldout + train + distractors]
    return rest[:train], heldout_dataset(held, [p.positive for p in rest], name="news-heldout")


def pairs_from_index(name: str, max_chars: int = 1000) -> list[Pair]:
    """Title -> first chunk of each titled document (file, or record of a JSONL/CSV file)
    of a stored index.

    :raises DatasetError: the index has no titled documents.
    """
    from embedlab.stores import open_index

    index = open_index(name)
    first: dict[tuple[int, int], tuple[int, Pair]] = {}
    for chunk in (c for page in index.iter_chunks() for c in page):
        if not chunk.title.strip() or chunk.title.strip() == chunk.text.strip():
            continue
        # a file is one document; each record of a JSONL/CSV file is a document of its own
        key = (chunk.doc_id, int(chunk.position.get("record", 0)))
        order = int(chunk.position.get("chunk", 0))
        if key not in first or order < first[key][0]:
            first[key] = (order, Pair(chunk.title, chunk.text[:max_chars]))
    if not first:
        raise DatasetError(
            f"Index {name!r} has no chunks with titles, so no title -> body pairs: "
            "index records with a title field, or give --pairs."
        )
    return [p for _, p in first.values()]


def split_pairs(
    pairs: Sequence[Pair], heldout: float = 0.2, seed: int = 0
) -> tuple[list[Pair], list[Pair]]:
    """Shuffle and split into (train, held-out); both non-empty.

    :raises DatasetError: fewer than 10 pairs.
    """
    if len(pairs) < 10:
        raise DatasetError(
            f"Only {len(pairs)} pairs: give at least 10 (a few hundred to see an effect)."
        )
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_held = max(1, int(round(len(pairs) * heldout)))
    return [pairs[i] for i in order[n_held:]], [pairs[i] for i in order[:n_held]]


def heldout_dataset(
    pairs: Sequence[Pair], distractors: Sequence[str] = (), name: str = "heldout"
) -> RetrievalDataset:
    """A retrieval test: each anchor is a query, its positive the one relevant document.

    :param distractors: more documents in the collection (e.g. the training positives), so
        the search is over the whole collection, not only the held-out part.
    """
    corpus: dict[str, Document] = {}
    doc_of: dict[str, str] = {}
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for i, p in enumerate(pairs):
        if p.positive not in doc_of:
            doc_of[p.positive] = f"d{len(doc_of)}"
            corpus[doc_of[p.positive]] = Document(doc_of[p.positive], p.positive)
        qid = f"q{i}"
        queries[qid] = p.anchor
        qrels[qid] = {doc_of[p.positive]: 1}
    for text in distractors:
        if text not in doc_of:
            doc_of[text] = f"d{len(doc_of)}"
            corpus[doc_of[text]] = Document(doc_of[text], text)
    return RetrievalDataset(name=name, corpus=corpus, queries=queries, qrels=qrels)
