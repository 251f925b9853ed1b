"""The Ask page in a real Chromium against the live server: the answer streams in, its
citations link to the sources, the prompt view shows the context budget, and "what if"
reruns with other stages and shows what changed. Screenshot: test-output/ask-page.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from embedlab.models import Encoder

pytestmark = pytest.mark.browser

TIMEOUT = 240_000
#: the page's answer grows once per token event; counted by a MutationObserver
COUNT_UPDATES = """() => {
  window.answerUpdates = 0;
  new MutationObserver(() => { window.answerUpdates += 1; })
    .observe(document.getElementById('answer'), {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture(scope="module")
def demo(minilm: Encoder) -> str:
    from embedlab.demo import ensure_demo_index

    return ensure_demo_index(minilm).name


@pytest.fixture(scope="module")
def local_chat() -> Any:
    from embedlab.ask import load_chat

    return load_chat("local")  # the live server in this process shares this copy


def test_ask_page(
    page: Any, live_server: str, demo: str, local_chat: Any, test_output: Path
) -> None:
    page.goto(f"{live_server}/static/ask.html")
    assert page.locator("#nav a[data-page='ask']").count() == 1
    assert "135M" in page.inner_text("#tiny-note")
    page.wait_for_selector(f"#index option[value='{demo}']", state="attached")
    page.wait_for_selector("#chat option[value='local']", state="attached")
    page.wait_for_selector("#servers li")  # Ollama at its default address: listed, up or down
    page.select_option("#index", demo)
    page.fill("#question", "Why does bread dough need to rest?")
    page.fill("#max-tokens", "40")
    page.fill("#k", "2")
    page.evaluate(COUNT_UPDATES)
    page.click("#go")
    page.wait_for_selector("#step-answer.done", timeout=TIMEOUT)
    assert page.locator("#error").is_hidden(), page.inner_text("#error")
    # streamed: the answer grew in many steps before the final rendering
    assert page.evaluate("window.answerUpdates") > 5
    assert page.inner_text("#answer").strip()
    stats = page.inner_text("#answer-stats")
    assert "tokens/s" in stats and "first token" in stats
    # the pipeline: vector figure, hits, rank movement, budget bar and the exact prompt
    assert "384 dimensions" in page.inner_text("#vector-info")
    assert page.locator("#vector .main-svg").count() >= 1
    assert page.locator("#hits tr[data-chunk]").count() == 2
    assert page.locator("#movement .main-svg").count() >= 1
    assert page.locator("#budget div").count() >= 4
    assert "by 2 chunk(s)" in page.inner_text("#budget-text")
    prompt = page.locator("#prompt").text_content()
    assert "Why does bread dough need to rest?" in prompt and "[2]" in prompt
    # sources numbered as in the prompt; the answer's citations link to them
    assert page.locator("#sources li").count() == 2
    assert "bread dough" in page.inner_text("#sources").lower()
    links = page.locator("#answer a.cite")
    assert links.count() >= 1  # this question gets a cited answer from the local model
    for i in range(links.count()):
        target = links.nth(i).get_attribute("href")
        assert target and page.locator(target).count() == 1, target
    page.screenshot(path=str(test_output / "ask-page.png"), full_page=True)

    # a small context budget: what did not fit is listed, not silently dropped
    page.fill("#k", "4")
    page.fill("#context", "100")
    page.fill("#max-tokens", "8")
    page.click("#go")
    page.wait_for_selector("#step-answer.done", timeout=TIMEOUT)
    assert "(set by you)" in page.inner_text("#budget-text")
    cut = page.inner_text("#excluded")
    assert "left out of the prompt" in cut and "did not fit" in cut
    assert page.locator("#sources li").count() + page.locator("#excluded li").count() == 4

    # what if: dense retrieval, one chunk: the prompt's sources and the answers compared
    page.check("#whatif-on")
    page.select_option("#wi-mode", "dense")
    page.fill("#wi-k", "1")
    page.click("#whatif")
    page.wait_for_selector("#whatif-panel:not([hidden])", timeout=TIMEOUT)
    summary = page.inner_text("#whatif-summary")
    assert "mode hybrid → dense" in summary and "k 4 → 1" in summary
    assert page.locator("#sources li").count() == 1
    page.screenshot(path=str(test_output / "ask-page-whatif.png"), full_page=True)
