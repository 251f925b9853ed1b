"""A residual reranker reads its candidates' stored vectors instead of embedding them again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from embedlab.data import news_articles
from embedlab.errors import InputError
from embedlab.models import Encoder
from embedlab.models.rerankers import CrossEncoderReranker, load_reranker
from embedlab.search import search
from embedlab.stores import create_index, drop_index
from embedlab.train.reranker import _stored_prior
from tests.stores.store_helpers import CountingEncoder

SCALE = 20.0


def test_residual_reranker_scores_with_stored_vectors_as_with_embedded_ones(
    minilm: Encoder, cross_encoder_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    arts = news_articles(limit=6)
    for i, a in enumerate(arts):
        (folder / f"a{i}.txt").write_text(a.text[:1500], encoding="utf-8")
    index = create_index("residual-stored", [folder], minilm)
    try:
        prior = CountingEncoder(minilm)  # the real bi-encoder, counting what it embeds
        model = load_reranker(str(cross_encoder_dir)).model
        residual = CrossEncoderReranker(model, "residual", prior, SCALE)
        assert residual.prior_fingerprint == index.fingerprint

        query = arts[2].title
        got = search(index, query, k=8, rerank=residual, rerank_candidates=8)
        assert prior.texts == [query]  # the query only: no candidate was embedded again
        assert "reranked" in got.stage_names
        reranked = [h.chunk for h in got.hits]
        assert len(reranked) == 8

        # the same candidates, each embedded again: the scores the search gave
        texts = [c.text for c in reranked]
        prior.texts.clear()
        again = residual.score(query, texts)
        assert prior.texts == [query, *texts]  # (the counting wrapper sees every text)
        np.testing.assert_allclose([h.score for h in got.hits], again, atol=1e-3)
        # and what the prior adds is the cosine of the stored vectors, the same vectors
        stored = index.vectors_of([c.id for c in reranked])
        np.testing.assert_allclose(stored, minilm.embed(texts), atol=1e-5)
        pairs = [(query, t) for t in texts]  # the cross-encoder's raw logits, called directly
        logits = model.predict(pairs, activation_fn=torch.nn.Identity(), convert_to_numpy=True)
        q = minilm.embed([query], role="query")[0]
        cos = stored @ q / np.linalg.norm(stored, axis=1) / np.linalg.norm(q)
        np.testing.assert_allclose(again - np.ravel(logits), SCALE * cos, atol=1e-3)

        # the training evaluation embeds its corpus once and reads the candidates from it
        prior.texts.clear()
        score = _stored_prior(residual, texts)
        assert prior.texts == texts
        np.testing.assert_allclose(score(query, texts[::-1]), again[::-1], atol=1e-3)
        assert prior.texts == [*texts, query]

        with pytest.raises(InputError, match="2 passage vectors for 3 passages"):
            residual.score(query, texts[:3], vectors=stored[:2])
        with pytest.raises(InputError, match="no chunk with id"):
            index.vectors_of([int(index.chunk_ids().max()) + 1])
    finally:
        drop_index("residual-stored")
