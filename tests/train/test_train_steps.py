"""The Train page's stepper accumulates (issue 15 #7): each step takes the next pair and
updates the run's own model, so a pair met again starts where its last update left it."""

from __future__ import annotations

from typing import Any

from tests.train.stepper import advance

SENTENCE = "the king spoke to the people of the country"


def _steps(n: int, run: str, **extra: Any) -> list[dict[str, Any]]:
    return advance(n, run, SENTENCE, 1, **extra)


def test_steps_advance_and_accumulate() -> None:
    steps = _steps(3, "acc-1")
    pairs = [(s["centre"], s["context"]) for s in steps]
    assert len(set(pairs)) == 3  # each step takes the next pair, never the same one again
    assert [s["step"] for s in steps] == [1, 2, 3]
    hist = steps[-1]["history"]
    assert [h["step"] for h in hist] == [1, 2, 3]  # the loss curve's points, one a step
    assert [h["loss_after"] for h in hist] == [s["update"]["loss_after"] for s in steps]
    n_pairs = len(steps[0]["pairs"])
    more = _steps(n_pairs, "acc-1")  # round the sentence: the first pair comes back
    again = next(s for s in more if (s["centre"], s["context"]) == pairs[0])
    # it starts from where updates left the vectors, not from the untouched model: the
    # context's score before is higher than the first time (every update pulled it in)
    first = steps[0]["update"]
    assert again["update"]["scores_before"][0] > first["scores_after"][0] - 1e-6
    assert again["update"]["scores_before"][0] != first["scores_before"][0]
    fresh = _steps(1, "acc-2")[0]  # another run starts from the shared, untouched model
    assert fresh["update"]["scores_before"][0] == first["scores_before"][0]
