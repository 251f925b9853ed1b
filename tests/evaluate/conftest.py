"""Shared data for the evaluation tests: a small real news-article retrieval set.

The first 150 articles (their first 300 characters, to keep the suite fast) as title ->
article pairs in the BEIR layout, embedded once with MiniLM through the evaluation's own
embedding cache, so the grid tests find the vectors already there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from embedlab.evaluate.cache import embed_cached
from embedlab.evaluate.datasets import RetrievalDataset
from embedlab.evaluate.make import make_news_dataset
from embedlab.models import Encoder

N_ARTICLES = 150
CHARS = 300


@dataclass
class NewsRun:
    """Title -> article on the first N articles: texts, ids and a real dense run."""

    dataset: RetrievalDataset
    doc_ids: list[str]
    qids: list[str]
    titles: list[str]
    bodies: list[str]
    scores: np.ndarray  # (queries, docs) cosines


@pytest.fixture(scope="session")
def news_run(minilm: Encoder, tmp_path_factory: pytest.TempPathFactory) -> NewsRun:
    ds = make_news_dataset(tmp_path_factory.mktemp("news") / "news", limit=N_ARTICLES, chars=CHARS)
    qids, titles = list(ds.judged_queries), list(ds.judged_queries.values())
    bodies = ds.doc_texts()
    q = embed_cached(minilm, titles, "query").vectors
    d = embed_cached(minilm, bodies, "document").vectors
    return NewsRun(ds, ds.doc_ids, qids, titles, bodies, q @ d.T)
