"""Contrastive forces over steps: InfoNCE pulling a positive in and pushing negatives out.

One anchor, one positive and a few negatives; a private copy of a real sentence-transformers
model (the pool's model is never touched) takes a few optimiser steps on the same loss
``embedlab train embedder`` uses (:func:`embedlab.train.embedder.build_loss`:
MultipleNegativesRankingLoss with ``scale = 1/τ``, which for one anchor is InfoNCE exactly,
see :mod:`embedlab.train.infonce`). Before each step, and once after the last, the anchor's
cosine to every candidate and the loss are recorded from the same forward pass the gradient
comes from, so the page shows the cosines moving step by step.

Dropout is off (the model stays in eval mode while it learns), so a run is deterministic:
the same inputs and settings give the same numbers.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedlab.errors import EmptyInputError, InputError, TrainingError
from embedlab.models.base import Encoder

#: at most this many negatives, steps, and characters per text (each step is a forward and
#: a backward pass of the whole model on every text).
MAX_NEGATIVES = 8
MAX_STEPS = 20
MAX_CHARS = 500


@dataclass(frozen=True)
class ForceStep:
    """The state before step ``step`` (the last one: after every step).

    :param cosines: the anchor's cosine to [positive, negatives...].
    :param probabilities: softmax of cosines / τ, same order (the positive's is P(correct)).
    :param loss: InfoNCE, ``−log P(positive)``.
    """

    step: int
    loss: float
    cosines: list[float]
    probabilities: list[float]


@dataclass
class ForcesRun:
    """Every recorded state of one run, and the trained copy (not sent to pages)."""

    model: str
    anchor: str
    positive: str
    negatives: list[str]
    temperature: float
    lr: float
    steps: list[ForceStep]
    seconds: float
    trained: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record (without the trained model)."""
        return {
            "model": self.model,
            "anchor": self.anchor,
            "positive": self.positive,
            "negatives": self.negatives,
            "temperature": self.temperature,
            "lr": self.lr,
            "steps": [s.__dict__ for s in self.steps],
            "seconds": self.seconds,
            "pulled_in": self.steps[-1].cosines[0] - self.steps[0].cosines[0],
            "pushed_out": [
                self.steps[-1].cosines[j] - self.steps[0].cosines[j]
                for j in range(1, len(self.steps[0].cosines))
            ],
        }


def _check(anchor: str, positive: str, negatives: Sequence[str], steps: int) -> list[str]:
    texts = [anchor, positive, *negatives]
    names = ["the anchor", "the positive"] + [f"negative #{i + 1}" for i in range(len(negatives))]
    if not negatives:
        raise InputError("Give at least one negative: InfoNCE needs something to push away.")
    if len(negatives) > MAX_NEGATIVES:
        raise InputError(f"{len(negatives)} negatives given; at most {MAX_NEGATIVES}.")
    for name, t in zip(names, texts, strict=True):
        if not isinstance(t, str) or not t.strip():
            raise EmptyInputError(f"{name.capitalize()} is empty: give it some words.")
        if len(t) > MAX_CHARS:
            raise InputError(f"{name.capitalize()} has {len(t)} characters; at most {MAX_CHARS}.")
    if not 1 <= steps <= MAX_STEPS:
        raise InputError(f"Take between 1 and {MAX_STEPS} steps, not {steps}.")
    return texts


def trainable_copy(encoder: Encoder) -> Any:
    """A private copy of the encoder's sentence-transformers model.

    :raises TrainingError: the encoder is not a sentence-transformers model (a word table,
        ONNX, a static or remote model cannot take gradient steps here).
    """
    from embedlab.models.st_backend import SentenceTransformerEncoder

    if not isinstance(encoder, SentenceTransformerEncoder):
        raise TrainingError(
            f"{encoder.info.name} ({encoder.info.backend or type(encoder).__name__}) cannot take "
            "gradient steps here: pick a sentence-transformers model such as minilm."
        )
    return copy.deepcopy(encoder.model)


def contrastive_forces(
    encoder: Encoder,
    anchor: str,
    positive: str,
    negatives: Sequence[str],
    *,
    steps: int = 5,
    lr: float = 1e-4,
    temperature: float = 0.05,
    seed: int = 0,
) -> ForcesRun:
    """Take ``steps`` AdamW steps of InfoNCE on a copy of ``encoder``'s model.

    :raises InputError: an empty or too long text, no negative, too many, a bad step count,
        learning rate or temperature.
    :raises TrainingError: the model cannot be trained here.
    """
    import torch

    from embedlab.train.common import device
    from embedlab.train.embedder import EmbedderConfig, build_loss

    texts = _check(anchor, positive, negatives, steps)
    if not 0 < lr <= 1e-2:
        raise InputError(f"The learning rate must be in (0, 0.01], got {lr}.")
    if not 0.01 <= temperature <= 1.0:
        raise InputError(f"The temperature must be between 0.01 and 1, got {temperature}.")
    start = time.perf_counter()
    model = trainable_copy(encoder)
    dev = device()
    model.to(dev)
    model.eval()  # no dropout: the recorded numbers are the ones the gradient comes from
    torch.manual_seed(seed)
    loss_fn = build_loss(model, EmbedderConfig(temperature=temperature))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    features = {k: v.to(dev) if hasattr(v, "to") else v for k, v in model.preprocess(texts).items()}
    record: list[ForceStep] = []

    def forward(step: int) -> Any:
        emb = model(dict(features))["sentence_embedding"]
        columns = [emb[i : i + 1] for i in range(len(texts))]  # anchor, positive, negatives
        loss = loss_fn.compute_loss_from_embeddings(columns, None)
        unit = torch.nn.functional.normalize(emb.detach().double(), dim=1)
        cos = (unit[1:] @ unit[0]).cpu().numpy()
        z = cos / temperature
        p = np.exp(z - z.max())
        record.append(ForceStep(step, float(loss.detach()), cos.tolist(), (p / p.sum()).tolist()))
        return loss

    for step in range(steps):
        optimizer.zero_grad()
        forward(step).backward()
        optimizer.step()
    with torch.no_grad():
        forward(steps)
    model.to("cpu")
    return ForcesRun(
        model=encoder.info.name,
        anchor=anchor,
        positive=positive,
        negatives=list(negatives),
        temperature=temperature,
        lr=lr,
        steps=record,
        seconds=time.perf_counter() - start,
        trained=model,
    )


__all__ = ["MAX_NEGATIVES", "MAX_STEPS", "ForceStep", "ForcesRun", "contrastive_forces"]
