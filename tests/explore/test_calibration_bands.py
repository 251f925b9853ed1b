"""Defect 9 of issue 15: the calibrated reading saturated (a 0.37 "bank" pun read ~100 %).

A score is now read against reference bands measured per model (unrelated pairs, same-topic
pairs, paraphrases, and translations for a multilingual model), built from the pair sets the
project ships; every band is checked here against an independent recomputation (the
model's own library and numpy), and the Similarity page's meter against the API.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import httpx
import numpy as np
import pytest

from embedlab.data.demo_corpus import PARAPHRASE_PAIRS, demo_documents
from embedlab.explore.calibration import (
    BACKGROUND,
    bands_for,
    clear_calibrations,
    reference_pairs,
)
from embedlab.explore.reference_pairs import PARAPHRASES, TRANSLATIONS
from embedlab.explore.similarity import score_pair
from embedlab.models import Encoder
from embedlab.server.app import create_app
from tests.conftest import run_async

BANK = ("I sat on the river bank", "I deposited cash at the bank")


def _st_cosines(minilm: Encoder, pairs: list[tuple[str, str]]) -> np.ndarray:
    """Cosines of pairs by sentence-transformers itself, normalised with numpy."""
    texts = sorted({t for p in pairs for t in p})
    v = np.asarray(minilm.model.encode(texts, convert_to_numpy=True), dtype=np.float64)  # type: ignore[attr-defined]
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    row = {t: i for i, t in enumerate(texts)}
    return np.array([v[row[a]] @ v[row[b]] for a, b in pairs])


def test_the_bank_pun_does_not_read_as_near_certain(minilm: Encoder) -> None:
    pair = score_pair(minilm, *BANK)
    assert 0.25 < pair.cosine < 0.5, pair.cosine
    # it shares a word and nothing else: not a paraphrase, not "strongly related"
    assert pair.band == "same_topic", (pair.band, pair.reading)
    assert "strongly related" not in pair.reading
    assert pair.band_percentiles["paraphrase"] < 10, pair.band_percentiles
    para = score_pair(
        minilm, "How do I reset my password?", "What are the steps to change my password?"
    )
    assert para.band == "paraphrase", (para.band, para.reading)
    unrelated = score_pair(
        minilm, "The stock market fell today", "My grandmother knits warm sweaters"
    )
    assert unrelated.band == "unrelated", (unrelated.band, unrelated.reading)


def test_bands_equal_an_independent_recomputation(minilm: Encoder) -> None:
    bands = bands_for(minilm)
    assert bands.fingerprint == minilm.info.fingerprint
    assert bands_for(minilm) is bands  # cached per fingerprint
    assert [b.key for b in bands.bands] == ["unrelated", "same_topic", "paraphrase"]  # English only
    # the pair sets themselves, rebuilt here from what the project ships
    n = len(BACKGROUND)
    unrelated = list(itertools.combinations(BACKGROUND, 2))
    assert len(unrelated) == n * (n - 1) // 2
    docs = {d["id"]: d for d in demo_documents()}
    para = list(PARAPHRASES) + [(docs[a]["text"], docs[b]["text"]) for a, b in PARAPHRASE_PAIRS]
    assert reference_pairs("paraphrase") == para
    same = reference_pairs("same_topic")
    assert len(same) >= 100
    topic_of = {}
    for d in docs.values():
        if d["lang"] == "en":
            for s in re.split(r"(?<=[.!?])\s+", d["text"].strip()):
                topic_of.setdefault(s, set()).add((d["topic"], d["id"]))
    for a, b in same:  # sentences of two different English documents on one topic
        (ta, ia), (tb, ib) = next(iter(topic_of[a])), next(iter(topic_of[b]))
        assert ta == tb and ia != ib and {ia, ib} not in [set(p) for p in PARAPHRASE_PAIRS]
    for key, pairs in (("unrelated", unrelated), ("same_topic", same), ("paraphrase", para)):
        want = np.sort(_st_cosines(minilm, pairs))
        got = bands.band(key)
        np.testing.assert_allclose(got.scores, want, atol=2e-5)
        summary = got.summary()
        for q in (10, 25, 50, 75, 90):
            assert summary[f"p{q}"] == pytest.approx(float(np.percentile(want, q)), abs=2e-5)
        assert summary["n"] == len(pairs)
    medians = [bands.band(k).summary()["p50"] for k in ("unrelated", "same_topic", "paraphrase")]
    assert medians == sorted(medians), medians  # the ladder climbs


def test_the_reading_is_where_the_score_falls(minilm: Encoder) -> None:
    bands = bands_for(minilm)
    u, s, p = (bands.band(k) for k in ("unrelated", "same_topic", "paraphrase"))
    pct = lambda xs, x: 100.0 * (np.sum(xs < x) + 0.5 * np.sum(xs == x)) / len(xs)  # noqa: E731
    for score in (u.summary()["p50"], s.summary()["p50"], p.summary()["p50"], 0.999):
        place = bands.place(score)
        for band in bands.bands:
            assert place.percentiles[band.key] == pytest.approx(pct(band.scores, score))
    assert bands.place(u.summary()["p50"]).band == "unrelated"
    assert bands.place(s.summary()["p50"]).band == "same_topic"
    assert bands.place(p.summary()["p50"]).band == "paraphrase"
    assert "typical of paraphrases" in bands.place(p.summary()["p50"]).reading
    assert "same topic, not the same meaning" in bands.place(s.summary()["p50"]).reading
    assert "above most paraphrases" in bands.place(0.999).reading
    assert bands.place(0.999).headline == "above most paraphrases"
    assert bands.place(s.summary()["p50"]).headline == "like same-topic pairs"


@pytest.mark.slow
def test_a_multilingual_model_gets_a_translation_band() -> None:
    from embedlab.models import load_model
    from embedlab.models.registry import find_spec, is_installed

    spec = find_spec("e5-multilingual")
    if spec is None or not is_installed(spec):
        pytest.skip("e5-multilingual is not installed")
    e5 = load_model("e5-multilingual")
    bands = bands_for(e5)
    assert [b.key for b in bands.bands] == ["unrelated", "same_topic", "paraphrase", "translation"]
    tr = bands.band("translation")
    v = e5.embed([t for p in TRANSLATIONS for t in p], role="document").astype(np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    want = np.sort(np.einsum("ij,ij->i", v[0::2], v[1::2]))
    np.testing.assert_allclose(tr.scores, want, atol=2e-5)
    # E5's narrow high band: a French sentence beside an unrelated English one is no translation
    other = score_pair(
        e5, "Il fait très beau aujourd'hui.", "The company plans to open three new warehouses."
    )
    assert other.band == "unrelated", (other.cosine, other.reading)
    assert other.band_percentiles["translation"] < 5
    real = score_pair(e5, "The cat is asleep on the sofa.", "Le chat dort sur le canapé.")
    assert real.band != "unrelated", real.reading
    assert real.band_percentiles["same_topic"] > 90 > other.band_percentiles["same_topic"]


def test_cache_is_per_fingerprint(minilm: Encoder) -> None:
    from embedlab.explore import calibration

    bands, cal = bands_for(minilm), calibration.calibration_for(minilm)
    assert calibration._BANDS.get(minilm.info.fingerprint) is bands
    clear_calibrations()
    assert calibration._BANDS.get(minilm.info.fingerprint) is None
    calibration._BANDS.put(minilm.info.fingerprint, bands)  # put back: no rebuild here
    calibration._CACHE.put(minilm.info.fingerprint, cal)


def test_the_route_sends_the_bands(minilm: Encoder) -> None:
    app = create_app()

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", timeout=120
        ) as c:
            return await c.post(
                "/lab/similarity", json={"a": BANK[0], "b": BANK[1], "model": "minilm"}
            )

    r = run_async(go)
    assert r.status_code == 200, r.text
    d = r.json()
    bands = bands_for(minilm)
    assert d["band"] == "same_topic" and d["reading"] == bands.place(d["cosine"]).reading
    assert [b["key"] for b in d["bands"]] == ["unrelated", "same_topic", "paraphrase"]
    for b in d["bands"]:
        assert b["p50"] == pytest.approx(bands.band(b["key"]).summary()["p50"])


@pytest.mark.browser
def test_the_meter_draws_the_bands_and_places_the_score(
    page: Any, live_server: str, minilm: Encoder, test_output: Any
) -> None:
    page.goto(live_server + "/static/similarity.html")
    page.wait_for_function("document.querySelector('#model option') !== null", timeout=60_000)
    page.fill("#a", BANK[0])
    page.fill("#b", BANK[1])
    page.click("#run")
    page.wait_for_selector("#pair:not([hidden]) .band-row", timeout=60_000)
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    pair = score_pair(minilm, *BANK)
    bands = bands_for(minilm)
    assert page.inner_text("#score") == f"{pair.cosine:.4f}"
    assert page.inner_text("#reading") == f"minilm: {pair.reading}"
    assert page.inner_text("#band-name") == "between same-topic pairs and paraphrases"
    assert pair.headline == "between same-topic pairs and paraphrases"
    rows = page.locator(".band-row")
    assert rows.count() == 3
    for i, band in enumerate(bands.bands):
        s = band.summary()
        text = rows.nth(i).inner_text()
        assert band.label in text
        assert f"{s['p10']:.2f}–{s['p90']:.2f}" in text, text
        shown = math.floor(pair.band_percentiles[band.key] + 0.5)  # JS toFixed rounds half up
        assert f"above {shown} % of them" in text, text
    # the marker sits at the cosine on the meter's own scale
    lo, hi = (float(page.get_attribute("#band-meter", k)) for k in ("data-lo", "data-hi"))
    left = page.eval_on_selector("#band-marker", "n => parseFloat(n.style.left)")
    assert left == pytest.approx(100 * (pair.cosine - lo) / (hi - lo), abs=0.01)
    assert "100 %" not in page.inner_text("#pair .big")
    page.screenshot(path=str(test_output / "lab-similarity-bands.png"), full_page=True)


@pytest.mark.slow
@pytest.mark.browser
def test_the_languages_page_reads_each_pair_against_the_bands(
    page: Any, live_server: str, minilm: Encoder
) -> None:
    """E5 put a non-translation at the 94th percentile of its unrelated pairs; the page now
    says which band each score reads as and how it ranks among the model's translations."""
    from embedlab.models import load_model
    from embedlab.models.registry import find_spec, is_installed

    spec = find_spec("e5-multilingual")
    if spec is None or not is_installed(spec):
        pytest.skip("e5-multilingual is not installed")
    e5 = load_model("e5-multilingual")
    pairs = [
        ("The children are playing in the garden.", "Die Kinder spielen im Garten."),
        ("Il fait très beau aujourd'hui.", "The company plans to open three new warehouses."),
    ]
    page.goto(live_server + "/static/languages.html")
    page.wait_for_function("document.querySelector('#multi option') !== null", timeout=60_000)
    page.fill("#pairs", "\n".join(f"{a} | {b}" for a, b in pairs))
    page.select_option("#english", "minilm")
    page.select_option("#multi", "e5-multilingual")
    page.click("#run")
    page.wait_for_selector("#table tbody tr", timeout=240_000)
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    labels = {
        "unrelated": "unrelated pairs",
        "same_topic": "same-topic pairs",
        "paraphrase": "paraphrases",
    }
    translations = bands_for(e5).band("translation").scores
    for i, (a, b) in enumerate(pairs):
        cells = page.locator("#table tbody tr").nth(i).locator("td.reads")
        en, multi = score_pair(minilm, a, b), score_pair(e5, a, b)
        assert cells.nth(0).inner_text() == en.headline
        assert en.headline.endswith(labels[en.band]) or en.headline.startswith(
            f"between {labels[en.band]}"
        )
        beaten = 100.0 * np.mean(translations < multi.cosine)
        assert multi.band_percentiles["translation"] == pytest.approx(beaten)
        want = f"{multi.headline} · above {math.floor(beaten + 0.5)} % of translations"
        assert cells.nth(1).inner_text() == want
    assert (
        "translations"
        not in page.locator("#table tbody tr").nth(1).locator("td.reads").nth(0).inner_text()
    )
    assert (
        page.locator("#table tbody tr")
        .nth(1)
        .locator("td.reads")
        .nth(1)
        .inner_text()
        .startswith("like unrelated pairs")
    )
