"""What every trainer shares: the output folder rule, the device, the run record."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

from embedlab.errors import TrainingError
from embedlab.models.device import torch_device

#: file each trainer writes into its output folder: settings, curve, measurements.
RUN_FILE = "train.json"


class TrainingInterrupted(TrainingError):
    """Training stopped on Ctrl-C; a checkpoint was saved and can be resumed."""

    http_status = 409


def prepare_output(out: str | Path, *, overwrite: bool = False, resume: bool = False) -> Path:
    """Create the output folder, refusing one that exists unless told.

    :param overwrite: delete an existing folder first.
    :param resume: an existing folder is expected (it holds the checkpoint).
    :raises TrainingError: the folder exists (or, resuming, does not).
    """
    path = Path(out).expanduser()
    if resume:
        if not (path / RUN_FILE).exists():
            raise TrainingError(
                f"Nothing to resume in {path}: it holds no {RUN_FILE}. Start a new run without --resume."
            )
        return path
    if path.exists() and any(path.iterdir()):
        if not overwrite:
            raise TrainingError(
                f"Output folder {path} already exists: pick another --out, add --overwrite to "
                "replace it, or --resume to continue an interrupted run."
            )
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def device() -> str:
    """``cuda`` when a GPU is present, else ``cpu`` (:func:`embedlab.models.device.torch_device`)."""
    return torch_device()


@dataclass
class StepRun:
    """What :func:`run_steps` did: steps and examples done, time, the loss after each step."""

    steps: int
    examples: int
    seconds: float
    curve: list[tuple[int, float]]
    interrupted: bool

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds else 0.0


def run_steps(
    batches: Sequence[Any],
    loss_of: Callable[[Any], tuple[Any, int]],
    optimizer: Any,
    params: Any,
    warmup: float,
    progress: Callable[[int, int, float], None] | None = None,
) -> StepRun:
    """The optimisation loop both neural trainers share.

    For each batch, ``loss_of(batch)`` gives ``(loss tensor, examples in it)``; the loss is
    back-propagated, the gradient norm of ``params`` clipped at 1, and the learning rate
    follows a linear warm-up over the first ``warmup`` share of the steps, then a linear
    decay to 0. Ctrl-C stops the loop (``interrupted``) instead of raising, so the caller
    can save what it has.
    """
    import torch

    params = list(params)  # clipped at every step: a generator would be spent after one
    steps = len(batches)
    warm = max(1, int(steps * warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    curve: list[tuple[int, float]] = []
    examples, interrupted = 0, False
    started = time.perf_counter()
    try:
        for batch in batches:
            loss, n = loss_of(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            examples += n
            curve.append((len(curve) + 1, float(loss.detach())))
            if progress is not None:
                progress(len(curve), steps, curve[-1][1])
    except KeyboardInterrupt:
        interrupted = True
    return StepRun(len(curve), examples, time.perf_counter() - started, curve, interrupted)


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, tuples and numpy scalars -> plain JSON values."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_run(folder: Path, record: Any) -> None:
    """Write the run record (a dataclass or dict) as ``train.json``."""
    (folder / RUN_FILE).write_text(json.dumps(to_jsonable(record), indent=2, ensure_ascii=False))


def read_run(folder: Path) -> dict[str, Any]:
    """The run record of a training output folder."""
    data: dict[str, Any] = json.loads((Path(folder) / RUN_FILE).read_text())
    return data


@dataclass(frozen=True)
class CurvePoint:
    """One point of a loss curve: after ``step`` steps (or epochs), this loss."""

    step: float
    loss: float
