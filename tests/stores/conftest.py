"""Fixtures of the store tests: a small news corpus on disk and its clean index."""

from __future__ import annotations

import pytest

from embedlab.models import Encoder
from embedlab.stores import create_index
from tests.stores.store_helpers import NewsCorpus, write_news

#: articles in the shared news corpus (small: the machine is shared, embedding dominates).
NEWS_FILES = 8


@pytest.fixture(scope="session")
def news_corpus(minilm: Encoder, tmp_path_factory: pytest.TempPathFactory) -> NewsCorpus:
    """``NEWS_FILES`` news articles as .md files and a clean index of them (default chunking)."""
    folder = tmp_path_factory.mktemp("news") / "articles"
    files = write_news(folder, NEWS_FILES)
    return NewsCorpus(folder, files, create_index("news-clean", [folder], minilm))
