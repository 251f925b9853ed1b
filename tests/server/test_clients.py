"""The official ``openai`` and ``ollama`` Python clients against the real server on loopback."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.models import Encoder

TEXTS = ["Paris is the capital of France.", "A recipe for lemon cake."]


def test_openai_client(live_server: str, minilm: Encoder) -> None:
    from openai import BadRequestError, NotFoundError, OpenAI

    client = OpenAI(base_url=f"{live_server}/v1", api_key="not-needed", max_retries=0)
    resp = client.embeddings.create(model="minilm", input=TEXTS)  # the client asks for base64
    got = np.array([d.embedding for d in resp.data], dtype=np.float32)
    np.testing.assert_allclose(got, minilm.embed(TEXTS), atol=1e-5)
    assert resp.usage.prompt_tokens == sum(minilm.count_tokens(TEXTS) or [])
    small = client.embeddings.create(
        model="minilm", input="hi", dimensions=32, encoding_format="float"
    )
    assert len(small.data[0].embedding) == 32
    assert "minilm" in [m.id for m in client.models.list()]
    with pytest.raises(NotFoundError, match="Known models"):
        client.embeddings.create(model="no-such-model", input="x")
    with pytest.raises(BadRequestError, match="empty"):
        client.embeddings.create(model="minilm", input="   ")


def test_ollama_client(live_server: str, minilm: Encoder) -> None:
    import ollama

    client = ollama.Client(host=live_server)
    resp = client.embed(model="minilm", input=TEXTS)
    got = np.array(resp.embeddings, dtype=np.float32)
    np.testing.assert_allclose(got, minilm.embed(TEXTS), atol=1e-5)  # MiniLM is normalised
    assert resp.prompt_eval_count == sum(minilm.count_tokens(TEXTS) or [])
    assert resp.total_duration and resp.total_duration > 0
    assert "minilm" in [m.model for m in client.list().models]
    with pytest.raises(ollama.ResponseError) as info:
        client.embed(model="minilm", input="word " * 600, truncate=False)
    assert info.value.status_code == 400 and "at most 256" in str(info.value.error)
