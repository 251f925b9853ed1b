"""The Train page's API through the ASGI transport, and the page in a real browser."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from embedlab.server.app import create_app
from tests.conftest import run_async


def _lab(flow: Callable[[httpx.AsyncClient], Coroutine[Any, Any, None]]) -> None:
    """Run ``flow(client)`` against a fresh app, beside Playwright's running loop."""

    async def main() -> None:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            await flow(client)

    run_async(main)


def test_word2vec_step_and_infonce() -> None:
    _lab(_word2vec_step_and_infonce)


async def _word2vec_step_and_infonce(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/lab/train/word2vec-step",
        json={"sentence": "the police said the fire was under control", "window": 2, "centre": 1},
    )
    assert r.status_code == 200, r.text
    step = r.json()
    assert step["words"][1] == "police"
    assert all(abs(c - x) <= step["effective_windows"][c] for c, x in step["pairs"])
    u = step["update"]
    assert u["centre"] == "police" and len(u["negatives"]) == 5 and "police" not in u["negatives"]
    assert u["loss_after"] < u["loss_before"]
    r = await client.post(
        "/lab/train/infonce",
        json={"anchor": "a cat sat on the mat", "positive": "a kitten sitting on a rug",
              "negatives": ["a cat sat on the sofa", "stock markets fell sharply"], "temperatures": 5},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["points"]) == 5 and body["figure"]["data"]
    assert body["negatives"][body["hardest"]] == "a cat sat on the sofa"
    r = await client.post("/lab/train/word2vec-step", json={"sentence": "hi", "window": 2})
    assert r.status_code == 400 and "two words" in r.json()["error"]["message"]


@pytest.mark.browser
def test_train_page_in_browser(page: object, live_server: str) -> None:
    pg = page
    pg.goto(f"{live_server}/static/train.html")  # type: ignore[attr-defined]
    pg.click("#step")  # type: ignore[attr-defined]
    pg.wait_for_selector("#update table", timeout=60_000)  # type: ignore[attr-defined]
    assert "→" in pg.inner_text("#update")  # type: ignore[attr-defined]
    pg.click("#explain")  # type: ignore[attr-defined]
    pg.wait_for_selector("#point table", timeout=60_000)  # type: ignore[attr-defined]
    pg.fill("#temp", "40")  # type: ignore[attr-defined]
    pg.dispatch_event("#temp", "input")  # type: ignore[attr-defined]
    assert float(pg.inner_text("#tempval")) == 1.0  # type: ignore[attr-defined]
