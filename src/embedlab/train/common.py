"""What every trainer shares: the output folder rule, the device, the run record."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

from embedlab.errors import TrainingError

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
    """``cuda`` when a GPU is present, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


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
