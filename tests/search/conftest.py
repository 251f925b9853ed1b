"""Fixtures of the search tests: a small real news corpus (title -> article) embedded once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from embedlab.data import news_articles
from embedlab.models import Encoder
from embedlab.search.memory import MemoryIndex

N_ARTICLES = 150
CHUNK_CHARS = 400


@dataclass
class NewsSet:
    """Articles as chunks (text truncated), titles as queries, query i's answer is chunk i."""

    index: MemoryIndex
    titles: list[str]
    texts: list[str]
    query_vectors: np.ndarray


@pytest.fixture(scope="session")
def news(minilm: Encoder) -> NewsSet:
    arts = news_articles(limit=N_ARTICLES)
    texts = [a.text[:CHUNK_CHARS] for a in arts]
    titles = [a.title for a in arts]
    meta = [{"part": str(i % 3)} for i in range(len(arts))]
    index = MemoryIndex.from_texts(minilm, texts, name="news", titles=titles, metadata=meta)
    return NewsSet(index, titles, texts, minilm.embed(titles, role="query"))


@pytest.fixture(scope="session")
def cross_encoder_dir(news: NewsSet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny cross-encoder trained from the MiniLM weights on (title, article) pairs."""
    import torch
    from sentence_transformers import CrossEncoder

    from embedlab.models.paths import minilm_folder

    torch.manual_seed(0)
    model = CrossEncoder(str(minilm_folder()), num_labels=1, max_length=64, device="cpu")
    rng = np.random.default_rng(0)
    pairs: list[tuple[str, str, float]] = []
    for i in range(32):  # 64 pairs, 4 steps: enough to prove the plumbing, ~10 s quiet
        j = int((i + 1 + rng.integers(0, len(news.texts) - 1)) % len(news.texts))
        pairs += [(news.titles[i], news.texts[i], 1.0), (news.titles[i], news.texts[j], 0.0)]
    order = rng.permutation(len(pairs))
    net, tok = model.model, model.tokenizer
    net.train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for start in range(0, len(pairs), 16):
        batch = [pairs[int(i)] for i in order[start : start + 16]]
        enc = tok(
            [q for q, _, _ in batch],
            [p for _, p, _ in batch],
            padding=True,
            truncation=True,
            max_length=64,
            return_tensors="pt",
        )
        logits = net(**enc).logits.squeeze(-1)
        loss = loss_fn(logits, torch.tensor([y for _, _, y in batch]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    folder = tmp_path_factory.mktemp("cross-encoder")
    model.save(str(folder))
    return folder
