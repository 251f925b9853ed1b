"""The foundation's ``openai:`` and ``ollama:`` backends pointed at this server on loopback:
the two halves of the project speak the same protocols."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import RemoteModelError
from embedlab.models import Encoder, load_model
from embedlab.models.remote import load_ollama, load_openai

TEXTS = ["A sentence about cats.", "Another about the stock market.", "Third one: the weather."]


def test_openai_backend_against_the_lab(live_server: str, minilm: Encoder) -> None:
    enc = load_openai("minilm", base_url=f"{live_server}/v1")
    try:
        assert enc.info.dims == 384 and enc.info.normalized
        np.testing.assert_allclose(enc.embed(TEXTS), minilm.embed(TEXTS), atol=1e-5)
    finally:
        enc.close()
    # through the registry, as users write it
    via_registry = load_model("openai:minilm", base_url=f"{live_server}/v1")
    np.testing.assert_allclose(via_registry.embed(TEXTS[0]), minilm.embed(TEXTS[0]), atol=1e-5)


def test_ollama_backend_against_the_lab(live_server: str, minilm: Encoder) -> None:
    enc = load_ollama("minilm", base_url=live_server)
    try:
        assert enc.info.name == "ollama:minilm" and enc.info.dims == 384
        np.testing.assert_allclose(enc.embed(TEXTS), minilm.embed(TEXTS), atol=1e-5)
        many = [f"text number {i}" for i in range(150)]  # several of the backend's batches
        np.testing.assert_allclose(enc.embed(many), minilm.embed(many), atol=1e-4)
    finally:
        enc.close()


def test_backend_reports_the_servers_error(live_server: str) -> None:
    with pytest.raises(RemoteModelError, match="404") as info:
        load_ollama("no-such-model", base_url=live_server)
    assert "Known models" in str(info.value)
