"""Shared fixtures: one real model per test run, and a private embedlab home per test session.

No test touches the network: models come from installed packages, data from gensim's test
files or the cache ``make data`` fills.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine, Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TypeVar

import pytest

from embedlab.models import Encoder, load_model

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

T = TypeVar("T")

#: screenshots and other artefacts tests leave for people to look at.
TEST_OUTPUT = Path(__file__).resolve().parent.parent / "test-output"


@pytest.fixture(scope="session", autouse=True)
def embedlab_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point EMBEDLAB_HOME at a temporary folder so tests never touch the user's data."""
    home = tmp_path_factory.mktemp("embedlab-home")
    old = os.environ.get("EMBEDLAB_HOME")
    os.environ["EMBEDLAB_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("EMBEDLAB_HOME", None)
    else:
        os.environ["EMBEDLAB_HOME"] = old


@pytest.fixture(scope="session")
def minilm() -> Encoder:
    """The bundled default model, loaded once for the whole run."""
    return load_model("minilm")


@pytest.fixture(scope="session")
def minilm_static(embedlab_home: Path) -> Encoder:
    """``minilm-static`` from the catalogue, its cache made first with a small vocabulary.

    The real MiniLM distilled by the real code, on ~560 words and the single ASCII
    characters (so every word can be spelt out) instead of 29,525 tokens (see
    tests/static_vocabulary.py); the web app and the grid then load it by name as users do.
    """
    from embedlab.train.distill import MINILM_STATIC, cached_static, distill_static
    from tests.static_vocabulary import static_words

    cached_static(
        MINILM_STATIC,
        lambda out: distill_static(
            "minilm",
            out,
            pca_dims=64,
            vocabulary=static_words(),
            vocabulary_only=True,
            keep_characters=True,
        ),
        progress=None,
    )
    return load_model(MINILM_STATIC)


@pytest.fixture(scope="session")
def glove() -> Encoder:
    """GloVe 6B 50d word vectors, loaded once for the whole run."""
    return load_model("glove-50d")


@pytest.fixture(scope="session")
def chat_local() -> Any:
    """The bundled chat model (SmolLM2-135M), loaded once through the chat registry's
    process cache, so a test server in this process shares it. Keep answers short."""
    from embedlab.ask import load_chat

    return load_chat("local")


@pytest.fixture(scope="session")
def test_output() -> Path:
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The real web app under uvicorn on a free loopback port; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from embedlab.server.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 120
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


CHROMIUM = Path("/usr/bin/chromium")


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set (and not ``0`` or ``false``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (Chromium or Playwright missing), else None."""
    if not CHROMIUM.exists():
        return f"Debian's chromium is not installed at {CHROMIUM} (`make browser` installs it)"
    if find_spec("playwright") is None:
        return "Playwright is not installed (it is in the dev extra: `make install`)"
    return None


def require_browser() -> None:
    """Skip a browser test when Chromium or Playwright is missing; in CI, fail it instead.

    CI must not pass without running the browser tests, so there a missing browser is an
    error, not a skip.
    """
    reason = browser_missing()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason}; CI is set, so browser tests must run, not skip.", pytrace=False)
    pytest.skip(f"{reason}; browser tests skipped (with CI set this is an error).")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that drives the browser must carry ``@pytest.mark.browser`` (so ``-m`` can
    select or leave out the browser tests)."""
    uses = {"browser", "page"} & set(getattr(item, "fixturenames", ()))
    if uses and item.get_closest_marker("browser") is None:
        pytest.fail(
            f"{item.nodeid} uses the {sorted(uses)[0]!r} fixture but is not marked: add "
            "@pytest.mark.browser.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a browser download)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture()
def page(browser: object, live_server: str) -> Iterator[object]:
    """A fresh browser page; tests navigate to ``live_server + path``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    pg = context.new_page()
    yield pg
    context.close()


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``make()`` in a fresh event loop on its own thread and return its result.

    Playwright's sync API keeps an event loop running on the main thread once the session
    browser exists, and ``asyncio.run`` refuses to start inside a running loop, so every
    in-process (httpx ASGI transport) web test goes through here.
    """
    import asyncio
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(lambda: asyncio.run(make())).result()
