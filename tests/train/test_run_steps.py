"""The optimisation loop both neural trainers share (train/common.run_steps)."""

from __future__ import annotations

from typing import Any

import torch

from embedlab.train.common import run_steps


def test_schedule_clipping_curve_and_interrupt() -> None:
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=1.0)
    lrs: list[float] = []
    weights: list[torch.Tensor] = []

    def loss_of(batch: int) -> tuple[Any, int]:
        if batch == 7:
            raise KeyboardInterrupt
        lrs.append(optimizer.param_groups[0]["lr"])
        weights.append(torch.cat([p.detach().flatten() for p in net.parameters()]).clone())
        return (net(torch.full((2, 4), 100.0)) ** 2).mean(), 2  # gradient norm in the 1e4s

    seen: list[tuple[int, int]] = []
    run = run_steps(
        list(range(10)), loss_of, optimizer, net.parameters(), 0.2,
        lambda s, n, _: seen.append((s, n)),
    )  # fmt: skip
    # 10 steps, 2 of warm-up: lr (s + 1) / 2, then (10 - s) / 8 for step s = 0..; stopped at 7
    assert lrs == [0.5, 1.0, 1.0, 0.875, 0.75, 0.625, 0.5]
    assert run.interrupted and run.steps == 7 and run.examples == 14
    assert [s for s, _ in run.curve] == list(range(1, 8)) and seen[-1] == (7, 10)
    # every step is clipped to gradient norm 1, so SGD moves the weights by at most lr
    # (a parameter generator spent after the first clip would let later steps jump by 1e4)
    for before, after, lr in zip(weights, weights[1:], lrs, strict=False):
        assert float((after - before).norm()) <= lr + 1e-5
