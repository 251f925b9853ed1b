"""Contrastive fine-tuning of a bi-encoder: InfoNCE with in-batch (and mined) negatives.

The loss is sentence-transformers' ``MultipleNegativesRankingLoss`` with ``scale = 1/τ``
(see :mod:`embedlab.train.infonce` for the formula), optionally wrapped in
``MatryoshkaLoss`` so the first 256, 128, 64... dimensions work on their own. A plain
PyTorch loop drives it (AdamW, linear warm-up and decay), so progress, the loss curve and
Ctrl-C are ours. The held-out split is measured before and after with the shared metrics,
at every Matryoshka dimension. The result is a sentence-transformers folder: open it with
``load_model("st:<folder>")``; its fingerprint is its own (name and weight file differ).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import TrainingError
from embedlab.evaluate.datasets import RetrievalDataset
from embedlab.train.common import (
    TrainingInterrupted,
    device,
    prepare_output,
    run_steps,
    write_run,
)
from embedlab.train.mining import METHODS, MinedNegative, mine_hard_negatives, with_negatives
from embedlab.train.pairs import Pair, heldout_dataset, split_pairs
from embedlab.train.retrieval_eval import RetrievalScore, evaluate_bi_encoder

LOSSES: tuple[str, ...] = ("infonce",)


@dataclass(frozen=True)
class EmbedderConfig:
    """Fine-tuning settings (defaults finish in minutes on a CPU for a few thousand pairs)."""

    base: str = "minilm"
    loss: str = "infonce"
    temperature: float = 0.05
    hard_negatives: str = "none"
    margin: float = 0.0
    rank_range: tuple[int, int] = (2, 30)
    matryoshka: tuple[int, ...] = ()
    epochs: int = 1
    batch: int = 32
    lr: float = 5e-5
    warmup: float = 0.1
    max_seq_length: int | None = 128
    heldout: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise TrainingError(f"Unknown loss {self.loss!r}: use one of {', '.join(LOSSES)}.")
        if self.hard_negatives not in METHODS:
            raise TrainingError(
                f"Unknown --hard-negatives {self.hard_negatives!r}: use one of {', '.join(METHODS)}."
            )
        if not self.temperature > 0:
            raise TrainingError(f"The temperature must be above 0, got {self.temperature}.")
        if self.batch < 2:
            raise TrainingError("--batch must be at least 2: in-batch negatives need company.")


@dataclass
class EmbedderResult:
    """What a fine-tuning run did and measured."""

    out: str
    config: dict[str, Any]
    train_pairs: int
    heldout_pairs: int
    steps: int
    seconds: float
    examples_per_second: float
    device: str
    loss_curve: list[tuple[int, float]]
    before: list[RetrievalScore]
    after: list[RetrievalScore]
    mined: list[MinedNegative] = field(default_factory=list)
    interrupted: bool = False

    def gain(self, metric: str = "recall@10", dims: int | None = None) -> float:
        """after − before for ``metric`` at ``dims`` (full dimension by default)."""
        b = next(s for s in self.before if dims is None or s.dims == dims)
        a = next(s for s in self.after if s.dims == b.dims)
        return a.metrics[metric] - b.metrics[metric]


def load_bi_encoder(base: str) -> tuple[Any, str]:
    """A private, trainable copy of a sentence-transformers bi-encoder, and its name.

    :raises TrainingError: the model is a word table, ONNX, remote or a cross-encoder.
    """
    from embedlab.models import load_model
    from embedlab.models.st_backend import SentenceTransformerEncoder

    folder = Path(base[3:] if base.startswith("st:") else base).expanduser()
    config = folder / "config.json"
    if config.is_file() and "ForSequenceClassification" in config.read_text():
        raise TrainingError(
            f"{base} is a cross-encoder (it scores pairs), not a bi-encoder: fine-tuning needs a "
            "model that embeds one text at a time, e.g. --base minilm or st:<folder>."
        )
    encoder = load_model(base)
    if not isinstance(encoder, SentenceTransformerEncoder):
        raise TrainingError(
            f"{encoder.info.name} ({encoder.info.backend or type(encoder).__name__}) is not a "
            "trainable sentence-transformers bi-encoder: use --base minilm, mpnet or st:<folder>."
        )
    return copy.deepcopy(encoder.model), encoder.info.name


def _batches(pairs: Sequence[Pair], size: int, rng: np.random.Generator) -> list[list[Pair]]:
    """Shuffled batches; pairs with a negative and pairs without never share a batch."""
    groups = [
        [p for p in pairs if p.negative is not None],
        [p for p in pairs if p.negative is None],
    ]
    out = []
    for g in groups:
        order = rng.permutation(len(g))
        out += [[g[i] for i in order[s : s + size]] for s in range(0, len(g), size)]
    out = [b for b in out if len(b) >= 2]
    return [out[i] for i in rng.permutation(len(out))]


def build_loss(model: Any, config: EmbedderConfig) -> Any:
    """MultipleNegativesRankingLoss(scale=1/τ), wrapped in MatryoshkaLoss when dims are given."""
    from sentence_transformers.sentence_transformer import losses

    loss: Any = losses.MultipleNegativesRankingLoss(model, scale=1.0 / config.temperature)
    if config.matryoshka:
        dim_fn = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        full = dim_fn()
        bad = [d for d in config.matryoshka if not 1 <= d <= full]
        if bad:
            raise TrainingError(f"Matryoshka dims {bad} are outside 1..{full} for this model.")
        loss = losses.MatryoshkaLoss(model, loss, sorted(set(config.matryoshka), reverse=True))
    return loss


def _step_features(model: Any, batch: list[Pair], dev: str) -> list[dict[str, Any]]:
    columns = [[p.anchor for p in batch], [p.positive for p in batch]]
    if batch[0].negative is not None:
        columns.append([p.negative or "" for p in batch])
    feats = []
    for col in columns:
        f = model.preprocess(col)
        feats.append({k: v.to(dev) if hasattr(v, "to") else v for k, v in f.items()})
    return feats


def train_embedder(
    pairs: Sequence[Pair],
    out: str | Path,
    config: EmbedderConfig | None = None,
    *,
    eval_dataset: RetrievalDataset | None = None,
    reranker: Any = None,
    overwrite: bool = False,
    progress: Callable[[int, int, float], None] | None = None,
) -> EmbedderResult:
    """Fine-tune ``config.base`` on ``pairs`` and save it into ``out``.

    :param eval_dataset: measure on this instead of a held-out split of ``pairs``.
    :param reranker: the cross-encoder (folder or object) for ``hard_negatives="cross-encoder"``.
    :param progress: ``progress(step, steps, loss)`` after each step.
    :raises TrainingError: bad settings, a base that is not a bi-encoder, an existing ``out``.
    :raises TrainingInterrupted: on Ctrl-C, after saving the model trained so far into ``out``.
    """
    import torch

    config = config or EmbedderConfig()
    folder = prepare_output(out, overwrite=overwrite)
    model, base_name = load_bi_encoder(config.base)
    dev = device()
    model.to(dev)
    if config.max_seq_length:
        model.max_seq_length = config.max_seq_length
    train, held = (
        (list(pairs), [])
        if eval_dataset is not None
        else split_pairs(pairs, config.heldout, config.seed)
    )
    dataset = eval_dataset or heldout_dataset(held, [p.positive for p in train])
    model.eval()
    before = evaluate_bi_encoder(model, dataset, base_name, config.matryoshka)
    mined: list[MinedNegative] = []
    if config.hard_negatives != "none":
        mined = mine_hard_negatives(
            train,
            config.hard_negatives,
            model=model,
            reranker=reranker,
            margin=config.margin,
            rank_range=config.rank_range,
        )
        train = with_negatives(train, mined)

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    batches = [b for _ in range(config.epochs) for b in _batches(train, config.batch, rng)]
    if not batches:
        raise TrainingError(f"{len(train)} training pairs make no batch of 2: give more pairs.")
    loss_fn = build_loss(model, config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    model.train()
    run = run_steps(
        batches,
        lambda batch: (loss_fn(_step_features(model, batch, dev), labels=None), len(batch)),
        optimizer,
        model.parameters(),
        config.warmup,
        progress,
    )
    model.eval()
    model.save(str(folder))
    after = (
        []
        if run.interrupted
        else evaluate_bi_encoder(model, dataset, f"st:{folder}", config.matryoshka)
    )
    result = EmbedderResult(
        out=str(folder),
        config=asdict(config),
        train_pairs=len(train),
        heldout_pairs=len(dataset.judged_queries),
        steps=run.steps,
        seconds=run.seconds,
        examples_per_second=run.examples_per_second,
        device=dev,
        loss_curve=run.curve,
        before=before,
        after=after,
        mined=mined,
        interrupted=run.interrupted,
    )
    write_run(folder, result)
    if run.interrupted:
        raise TrainingInterrupted(
            f"Stopped after {run.steps} of {len(batches)} steps; the model trained so far is saved in {folder} "
            f"(load it as st:{folder}). To continue, train again with --base st:{folder} "
            f"--out NEW_FOLDER (fewer epochs)."
        )
    return result
