"""Shared data for the evaluation tests: a small real news-article retrieval set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from embedlab.data import news_articles
from embedlab.models import Encoder

N_ARTICLES = 150


@dataclass
class NewsRun:
    """Title -> article on the first N articles: texts, ids and a real dense run."""

    doc_ids: list[str]
    titles: list[str]
    bodies: list[str]
    scores: np.ndarray  # (queries, docs) cosines


@pytest.fixture(scope="session")
def news_run(minilm: Encoder) -> NewsRun:
    arts = news_articles(limit=N_ARTICLES)
    ids = [a.article_id for a in arts]
    titles = [a.title for a in arts]
    bodies = [a.text[:400] for a in arts]  # the lead of each article keeps the test fast
    q = minilm.embed(titles, role="query")
    d = minilm.embed(bodies, role="document")
    return NewsRun(ids, titles, bodies, q @ d.T)
