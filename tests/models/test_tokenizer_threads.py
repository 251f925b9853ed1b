"""Counting tokens while another thread embeds: the soak test (benchmarks/soak.py) saw
``Unable to create tensor`` 500s when the server counted a request's tokens on the same
Hugging Face tokenizer a batch was padding with in an encoder thread."""

from __future__ import annotations

import threading
import time

from embedlab.models import Encoder


def test_counting_uses_its_own_tokenizer(minilm: Encoder) -> None:
    counting = minilm.counting_tokenizer()
    assert counting is not None and counting is not minilm.model.tokenizer  # type: ignore[attr-defined]
    assert minilm.counting_tokenizer() is counting  # made once
    # the copy counts as the model does: special tokens included
    ids = minilm.model.tokenizer(["a cat sat"], add_special_tokens=True)["input_ids"]  # type: ignore[attr-defined]
    assert minilm.count_tokens(["a cat sat"]) == [len(ids[0])]


def test_counting_while_embedding_in_another_thread(minilm: Encoder) -> None:
    texts = ["short", "a much longer sentence with many more tokens than the first one has"]
    expected = minilm.embed(texts)
    errors: list[str] = []
    wrong: list[int] = []
    stop = time.monotonic() + 6

    def embedder() -> None:
        while time.monotonic() < stop:
            try:
                got = minilm.embed(texts)
                if abs(got - expected).max() > 1e-4:
                    wrong.append(1)
            except Exception as exc:  # the race showed up as a ValueError from transformers
                errors.append(repr(exc)[:200])

    def counter() -> None:
        while time.monotonic() < stop:
            minilm.count_tokens(["one text", "another, somewhat longer, text to count"])
            minilm.token_spans("a text whose token offsets are asked for")

    threads = [threading.Thread(target=embedder), threading.Thread(target=counter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and wrong == [], errors[:2]
