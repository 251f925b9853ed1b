"""Contrastive forces over steps (issue 15): a copy of the real MiniLM takes InfoNCE steps;
every loss and cosine shown equals an independent recomputation (sentence-transformers'
own encode of the model as it stood, numpy's softmax), the positive is pulled in and the loss
falls, the shared model is untouched; the route and the page show the same numbers."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from embedlab.errors import EmptyInputError, InputError, TrainingError
from embedlab.models import Encoder
from embedlab.server.app import create_app
from embedlab.train.forces import ForcesRun, contrastive_forces
from tests.conftest import run_async

ANCHOR = "How do I reset my password?"
POSITIVE = "Steps to recover a forgotten login password"
NEGATIVES = [
    "How do I reset my router?",
    "Password managers keep your passwords safe",
    "The weather is nice today",
]
TAU, LR, STEPS = 0.1, 2e-5, 4


def _state(model: Any) -> tuple[np.ndarray, float, np.ndarray]:
    """Cosines, InfoNCE loss and probabilities by the model's own encode and numpy."""
    v = np.asarray(
        model.encode([ANCHOR, POSITIVE, *NEGATIVES], convert_to_numpy=True), dtype=np.float64
    )
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    cos = v[1:] @ v[0]
    z = cos / TAU
    p = np.exp(z) / np.exp(z).sum()
    return cos, float(-np.log(p[0])), p


@pytest.fixture(scope="module")
def run(minilm: Encoder) -> ForcesRun:
    return contrastive_forces(
        minilm, ANCHOR, POSITIVE, NEGATIVES, steps=STEPS, lr=LR, temperature=TAU
    )


def test_first_and_last_states_equal_an_independent_recomputation(
    run: ForcesRun, minilm: Encoder
) -> None:
    assert len(run.steps) == STEPS + 1 and [s.step for s in run.steps] == list(range(STEPS + 1))
    for state, model in ((run.steps[0], minilm.model), (run.steps[-1], run.trained)):  # type: ignore[attr-defined]
        cos, loss, p = _state(model)
        np.testing.assert_allclose(state.cosines, cos, atol=2e-5)
        assert state.loss == pytest.approx(loss, abs=2e-4)
        np.testing.assert_allclose(state.probabilities, p, atol=2e-4)


def test_every_intermediate_state_is_the_model_after_that_many_steps(
    run: ForcesRun, minilm: Encoder
) -> None:
    shorter = contrastive_forces(
        minilm, ANCHOR, POSITIVE, NEGATIVES, steps=2, lr=LR, temperature=TAU
    )
    cos, loss, _ = _state(shorter.trained)
    np.testing.assert_allclose(run.steps[2].cosines, cos, atol=2e-5)
    assert run.steps[2].loss == pytest.approx(loss, abs=2e-4)
    np.testing.assert_allclose(shorter.steps[1].cosines, run.steps[1].cosines, atol=1e-6)


def test_the_positive_is_pulled_in_and_the_loss_falls(run: ForcesRun, minilm: Encoder) -> None:
    pos = [s.cosines[0] for s in run.steps]
    losses = [s.loss for s in run.steps]
    assert all(b > a for a, b in zip(pos, pos[1:], strict=False)), pos
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
    hardest = int(np.argmax(run.steps[0].cosines[1:])) + 1
    assert run.steps[-1].cosines[hardest] < run.steps[0].cosines[hardest] - 0.05  # pushed out
    d = run.to_dict()
    assert d["pulled_in"] == pytest.approx(pos[-1] - pos[0]) and d["pulled_in"] > 0.1
    # the shared model never moved
    cos0, _, _ = _state(minilm.model)  # type: ignore[attr-defined]
    np.testing.assert_allclose(cos0, run.steps[0].cosines, atol=2e-5)


def test_bad_input(minilm: Encoder, glove: Encoder) -> None:
    with pytest.raises(InputError, match="at least one negative"):
        contrastive_forces(minilm, ANCHOR, POSITIVE, [])
    with pytest.raises(EmptyInputError, match="The anchor is empty"):
        contrastive_forces(minilm, " ", POSITIVE, NEGATIVES)
    with pytest.raises(InputError, match="between 1 and 20 steps"):
        contrastive_forces(minilm, ANCHOR, POSITIVE, NEGATIVES, steps=0)
    with pytest.raises(TrainingError, match="cannot take gradient steps"):
        contrastive_forces(glove, "cat", "dog", ["car"])


def test_route_answers_the_same_numbers(run: ForcesRun) -> None:
    app = create_app()
    body = {
        "anchor": ANCHOR,
        "positive": POSITIVE,
        "negatives": NEGATIVES,
        "steps": 2,
        "lr": LR,
        "temperature": TAU,
    }

    async def go() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", timeout=300
        ) as c:
            ok = await c.post("/lab/forces", json=body)
            bad = await c.post("/lab/forces", json={**body, "negatives": []})
            return ok, bad

    ok, bad = run_async(go)
    assert ok.status_code == 200, ok.text
    got = ok.json()["steps"]
    assert len(got) == 3
    for shown, ref in zip(got, run.steps, strict=False):
        np.testing.assert_allclose(shown["cosines"], ref.cosines, atol=1e-6)
        assert shown["loss"] == pytest.approx(ref.loss, abs=1e-6)
    assert bad.status_code == 422


@pytest.mark.browser
def test_the_page_shows_the_steps(
    page: Any, live_server: str, run: ForcesRun, test_output: Any
) -> None:
    page.goto(live_server + "/static/forces.html")
    page.wait_for_function("document.querySelector('#model option') !== null", timeout=60_000)
    page.fill("#steps", str(STEPS))
    page.click("#run")
    page.wait_for_selector("#steps-table tbody tr", timeout=240_000)
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    rows = page.locator("#steps-table tbody tr")
    assert rows.count() == STEPS + 1
    for i, ref in enumerate(run.steps):
        cells = rows.nth(i)
        assert cells.locator(".loss").inner_text() == f"{ref.loss:.4f}"
        assert cells.locator(".p").inner_text() == f"{ref.probabilities[0]:.4f}"
        assert [c.strip() for c in cells.locator(".cos").all_inner_texts()] == [
            f"{c:.4f}" for c in ref.cosines
        ]
    first, last = run.steps[0], run.steps[-1]
    moved = ", ".join(
        f"{last.cosines[j] - first.cosines[j]:+.3f}" for j in range(1, len(first.cosines))
    )
    assert page.inner_text("#summary") == (
        f"Positive pulled in {last.cosines[0] - first.cosines[0]:+.3f} ({first.cosines[0]:.3f} → "
        f"{last.cosines[0]:.3f}); negatives moved {moved}; loss {first.loss:.4f} → {last.loss:.4f} "
        f"in {STEPS} steps."
    )
    assert page.locator("#chart .main-svg").count() >= 1
    page.screenshot(path=str(test_output / "lab-forces.png"), full_page=True)
