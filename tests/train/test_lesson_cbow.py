"""CBOW beside skip-gram in the word2vec stepper (issue 15, lessons): every number of a
CBOW step recomputed here with plain numpy from the shared model's vectors, through the
API and on the page in Chromium."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from embedlab.server.app import create_app
from embedlab.train.lab import demo_model
from tests.conftest import run_async
from tests.train.stepper import advance

SENTENCE = "the government said police would investigate the fire"


def _steps(n: int, run: str, **extra: Any) -> list[dict[str, Any]]:
    return advance(n, run, SENTENCE, 2, **extra)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x.astype(np.float64)))


def _replay(steps: list[dict[str, Any]]) -> None:
    """Recompute each CBOW step from the untouched model, applying the updates in numpy."""
    base = demo_model()
    w_in, w_out = base.w_in.astype(np.float64), base.w_out.astype(np.float64)
    idx = base.index
    for s in steps:
        u = s["update"]
        words = s["words"]
        assert u["centre"] == words[s["centre"]]
        assert u["contexts"] == [words[j] for j in s["context"]]
        # the window: every context within the centre's reduced window, none the centre itself
        eff = s["effective_windows"][s["centre"]]
        assert all(0 < abs(j - s["centre"]) <= eff for j in s["context"])
        ctx = [idx[w] for w in u["contexts"]]
        outs = [idx[u["centre"]]] + [idx[w] for w in u["negatives"]]
        assert idx[u["centre"]] not in outs[1:]
        h = w_in[ctx].mean(axis=0)
        scores = w_out[outs] @ h
        sig = _sigmoid(scores)
        labels = np.r_[1.0, np.zeros(len(outs) - 1)]
        loss = -(np.log(sig[0]) + np.log(1 - sig[1:]).sum())
        g = (labels - sig) * u["lr"]
        np.testing.assert_allclose(u["scores_before"], scores, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(u["sigmoid_before"], sig, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(u["gradients"], g, rtol=1e-4, atol=1e-7)
        assert u["loss_before"] == pytest.approx(loss, rel=1e-4)
        assert u["hidden_norm"] == pytest.approx(np.linalg.norm(h), rel=1e-4)
        dh = g @ w_out[outs]
        for o, go in zip(outs, g, strict=True):
            w_out[o] += go * h
        for c in ctx:
            w_in[c] += dh  # gensim's cbow_mean: the whole error to each context word
        h2 = w_in[ctx].mean(axis=0)
        after = w_out[outs] @ h2
        np.testing.assert_allclose(u["scores_after"], after, rtol=1e-3, atol=1e-5)
        s2 = _sigmoid(after)
        loss2 = -(np.log(s2[0]) + np.log(1 - s2[1:]).sum())
        assert u["loss_after"] == pytest.approx(loss2, rel=1e-3)
        assert u["loss_after"] < u["loss_before"]


def test_cbow_steps_match_numpy_and_accumulate() -> None:
    steps = _steps(4, "cbow-1", mode="cbow")
    assert all(s["mode"] == "cbow" for s in steps)
    assert [s["centre"] for s in steps] == sorted(
        {s["centre"] for s in steps}
    )  # next centre each step
    _replay(steps)  # each step starts where the previous one left the vectors
    hist = steps[-1]["history"]
    assert [h["loss_after"] for h in hist] == [s["update"]["loss_after"] for s in steps]
    # skip-gram on the same run id and sentence is a different run: one context per step
    sg = _steps(1, "cbow-1", mode="skipgram")[0]
    assert sg["mode"] == "skipgram" and isinstance(sg["context"], int)
    assert sg["step"] == 1


def test_cbow_mode_refused_when_unknown() -> None:
    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.post(
                "/lab/train/word2vec-advance",
                json={"run": "x", "sentence": SENTENCE, "mode": "glove"},
            )

    r = run_async(main)
    assert r.status_code == 422 and "mode" in r.json()["error"]["message"]


@pytest.mark.browser
def test_cbow_on_the_train_page(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/static/train.html")
    page.fill("#sentence", SENTENCE)
    page.select_option("#w2v-mode", "cbow")
    assert "CBOW" in page.inner_text("#mode-note")
    page.click("#step")
    page.wait_for_selector("#cbow-table", timeout=60_000)
    # the page's first step of a fresh run (seed 0) is the API's first step of a fresh run
    first = _steps(1, "cbow-browser", mode="cbow")[0]
    _replay([first])
    u = first["update"]
    shown_before = [float(t) for t in page.locator("#cbow-table td.before").all_inner_texts()]
    shown_after = [float(t) for t in page.locator("#cbow-table td.after").all_inner_texts()]
    np.testing.assert_allclose(shown_before, u["scores_before"], atol=6e-5)
    np.testing.assert_allclose(shown_after, u["scores_after"], atol=6e-5)
    assert page.inner_text("#cbow-loss") == f"{u['loss_before']:.4f} → {u['loss_after']:.4f}"
    assert u["centre"] in page.inner_text("#words .centre")
    page.click("#step")
    page.wait_for_function("document.getElementById('run-status').textContent.startsWith('step 2')")
