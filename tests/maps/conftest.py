"""Real text for the map tests: news articles on three distinct topics, embedded once."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pytest

from embedlab.data import news_articles
from embedlab.models import Encoder

#: a topic -> a title pattern that picks its articles (the titles are the data's own).
TOPICS = {
    "sport": r"\b(Super Bowl|NFL|football|tennis|Olympics?|league|Cup|coach|NBA|basketball|baseball)\b",
    "brexit": r"\b(Brexit|Article 50)\b",
    "syria": r"\b(Syria|Syrian|Aleppo|Assad)\b",
}
PER_TOPIC = 45


@dataclass
class TopicCorpus:
    texts: list[str]
    topics: list[str]
    vectors: np.ndarray


@pytest.fixture(scope="session")
def topic_corpus(minilm: Encoder) -> TopicCorpus:
    """135 real news articles, 45 per topic (title + opening), with their MiniLM vectors."""
    articles = news_articles()
    texts: list[str] = []
    topics: list[str] = []
    for topic, pattern in TOPICS.items():
        picked = [a for a in articles if re.search(pattern, a.title, re.I)][:PER_TOPIC]
        assert len(picked) == PER_TOPIC
        texts += [f"{a.title}. {a.text[:300]}" for a in picked]
        topics += [topic] * len(picked)
    return TopicCorpus(texts, topics, minilm.embed(texts))
