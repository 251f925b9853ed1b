"""Train a cross-encoder reranker from the MiniLM weights, with mined negatives.

No package here ships a trained cross-encoder, so the lab makes one: a
``sentence_transformers.CrossEncoder`` built on the bi-encoder's transformer with a fresh
one-logit head (``num_labels=1``). Each training anchor forms a group of its positive and
``negatives_per_pair`` negatives: hard ones mined by the bi-encoder the reranker will sit
behind (dense ranks 1-20, the positive itself skipped; or BM25) plus ``random_negatives``
random other articles. The default loss is listwise: softmax cross-entropy over each group
(the positive must outscore its own negatives), which learns ranking much faster than the
pointwise ``bce`` (kept as ``loss="bce"``; with few steps it stayed far below the
bi-encoder). Retrieval on the held-out split (anchors never trained on) is measured with
the bi-encoder alone and with its top ``candidates`` reranked; the folder loads with
``load_reranker(folder)``.

Residual by default (``prior_scale`` > 0): the score the loss sees, and the score the saved
reranker gives, is ``logit + prior_scale * cos`` where ``cos`` is the bi-encoder's cosine
of the pair. The fresh head's logits start small and nearly equal across passages, so at
step 0 the reranker ranks almost as the bi-encoder it sits behind, and training only has
to learn where the bi-encoder is wrong instead of learning relevance from nothing (a plain
cross-encoder trained from MiniLM on 800 titles ranked below the bi-encoder alone).
``prior_scale=0`` trains the plain one; docs/benchmarks.md compares the two.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import TrainingError
from embedlab.evaluate.datasets import RetrievalDataset
from embedlab.models import load_model
from embedlab.models.rerankers import PRIOR_FILE, CrossEncoderReranker
from embedlab.train.common import (
    TrainingInterrupted,
    device,
    prepare_output,
    run_steps,
    write_run,
)
from embedlab.train.embedder import load_bi_encoder
from embedlab.train.mining import MinedNegative, mine_hard_negatives
from embedlab.train.pairs import Pair, heldout_dataset, split_pairs
from embedlab.train.retrieval_eval import RetrievalScore, evaluate_reranked


@dataclass(frozen=True)
class RerankerConfig:
    """Reranker training settings."""

    base: str = "minilm"
    hard_negatives: str = "dense"
    negatives_per_pair: int = 4
    random_negatives: int = 1
    rank_range: tuple[int, int] = (1, 20)
    margin: float = 0.0
    loss: str = "listwise"
    epochs: int = 1
    batch: int = 20
    lr: float = 1e-4
    warmup: float = 0.1
    max_seq_length: int = 128
    heldout: float = 0.2
    candidates: int = 10
    prior_scale: float = 20.0
    head_lr: float = 2e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.hard_negatives not in ("bm25", "dense"):
            raise TrainingError(
                "A reranker mines its negatives with --hard-negatives bm25 or dense."
            )
        if self.negatives_per_pair < 1:
            raise TrainingError("--negatives must be at least 1: a reranker learns from contrasts.")
        if self.loss not in LOSSES:
            raise TrainingError(f"Unknown reranker loss {self.loss!r}: use {' or '.join(LOSSES)}.")
        if not 0 <= self.random_negatives <= self.negatives_per_pair:
            raise TrainingError("random_negatives must lie between 0 and --negatives.")
        if self.prior_scale < 0:
            raise TrainingError(f"--prior-scale must be 0 or more, got {self.prior_scale}.")


@dataclass
class RerankerResult:
    """What a reranker run did and measured (bi-encoder alone vs. reranked)."""

    out: str
    config: dict[str, Any]
    train_examples: int
    steps: int
    seconds: float
    examples_per_second: float
    device: str
    loss_curve: list[tuple[int, float]]
    bi_encoder: RetrievalScore | None
    reranked: RetrievalScore | None
    mined: list[MinedNegative] = field(default_factory=list)


def base_folder(base: str) -> str:
    """The sentence-transformers folder whose transformer the reranker starts from."""
    from embedlab.models.paths import minilm_folder
    from embedlab.models.registry import find_spec

    spec = find_spec(base)
    if spec is not None and spec.name == "minilm":
        return str(minilm_folder())
    path = Path(base[3:] if base.startswith("st:") else base).expanduser()
    if path.is_dir():
        return str(path)
    raise TrainingError(
        f"Cannot start a reranker from {base!r}: use --base minilm or st:<folder> of a "
        "sentence-transformers model."
    )


def _groups(
    pairs: Sequence[Pair], mined: Sequence[MinedNegative], config: RerankerConfig
) -> list[list[str]]:
    """Per anchor: ``[anchor, positive, negative_1 .. negative_n]``, n = ``negatives_per_pair``.

    Hard negatives first (the pair's own, then mined and unflagged, in rank order), then
    random other positives to fill the group, so every group has the same size.
    """
    rng = np.random.default_rng(config.seed)
    n_hard = config.negatives_per_pair - config.random_negatives
    hard: dict[tuple[str, str], list[str]] = {}
    for m in mined:
        if not m.likely_false_negative:
            hard.setdefault((m.anchor, m.positive), []).append(m.negative)
    docs = list(dict.fromkeys(p.positive for p in pairs))
    groups = []
    for p in pairs:
        negs = ([p.negative] if p.negative else []) + hard.get((p.anchor, p.positive), [])
        negs = list(dict.fromkeys(negs))[:n_hard]
        while len(negs) < config.negatives_per_pair and len(docs) > len(negs) + 1:
            d = docs[int(rng.integers(len(docs)))]
            if d != p.positive and d not in negs:
                negs.append(d)
        if len(negs) == config.negatives_per_pair:
            groups.append([p.anchor, p.positive, *negs])
    return groups


def _listwise(logits: Any) -> Any:
    """Softmax cross-entropy over each group (positive in column 0): rank it first."""
    import torch

    target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
    return torch.nn.functional.cross_entropy(logits, target)


def _bce(logits: Any) -> Any:
    """Binary cross-entropy per (anchor, passage), the positive weighted up to balance."""
    import torch

    labels = torch.zeros_like(logits)
    labels[:, 0] = 1.0
    weight = torch.tensor([logits.shape[1] - 1.0], device=logits.device)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, pos_weight=weight)


#: loss over a (queries, 1 + negatives) block of logits, positive first.
LOSSES: dict[str, Callable[[Any], Any]] = {"listwise": _listwise, "bce": _bce}


def train_reranker(
    pairs: Sequence[Pair],
    out: str | Path,
    config: RerankerConfig | None = None,
    *,
    eval_dataset: RetrievalDataset | None = None,
    overwrite: bool = False,
    evaluate: bool = True,
    progress: Callable[[int, int, float], None] | None = None,
) -> RerankerResult:
    """Train, measure and save a cross-encoder reranker (see the module docstring).

    :param eval_dataset: measure on this (and train on all ``pairs``) instead of a held-out
        split of ``pairs``.
    :raises TrainingInterrupted: on Ctrl-C, after saving the reranker trained so far.
    """
    import torch
    from sentence_transformers import CrossEncoder

    config = config or RerankerConfig()
    folder = prepare_output(out, overwrite=overwrite)
    start = base_folder(config.base)
    bi_encoder, bi_name = load_bi_encoder(config.base if config.base != start else f"st:{start}")
    train, held = (
        (list(pairs), [])
        if eval_dataset is not None
        else split_pairs(pairs, config.heldout, config.seed)
    )
    mined = mine_hard_negatives(
        train,
        config.hard_negatives,
        model=bi_encoder,
        margin=config.margin,
        rank_range=config.rank_range,
        per_anchor=config.negatives_per_pair - config.random_negatives,
    )
    groups = _groups(train, mined, config)
    if not groups:
        raise TrainingError(
            "No training groups: too few distinct positives to draw negatives from; give more pairs."
        )
    size = config.negatives_per_pair + 1
    per_step = max(1, config.batch // size)
    dev = device()
    model = CrossEncoder(start, num_labels=1, max_length=config.max_seq_length, device=dev)
    net = model.model
    prior = (
        _group_cosines(bi_encoder, groups, dev) * config.prior_scale
        if config.prior_scale
        else torch.zeros(len(groups), size, device=dev)
    )
    loss_fn = LOSSES[config.loss]
    head = _head(net)
    body = [p for p in net.parameters() if all(p is not h for h in head.parameters())]
    optimizer = torch.optim.AdamW(
        [
            {"params": body, "lr": config.lr},
            {"params": list(head.parameters()), "lr": config.head_lr},
        ]
    )
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    order = [rng.permutation(len(groups)) for _ in range(config.epochs)]
    batches = [o[s : s + per_step] for o in order for s in range(0, len(o), per_step)]

    def loss_of(idx: Any) -> tuple[Any, int]:
        batch = [groups[i] for i in idx]
        feats = model.tokenizer(
            [g[0] for g in batch for _ in g[1:]],
            [t for g in batch for t in g[1:]],
            padding=True,
            truncation=True,
            max_length=config.max_seq_length,
            return_tensors="pt",
        ).to(dev)
        logits = net(**feats).logits.view(len(batch), size) + prior[idx]
        return loss_fn(logits), len(batch) * size

    net.train()
    run = run_steps(batches, loss_of, optimizer, net.parameters(), config.warmup, progress)
    net.eval()
    model.save(str(folder))
    prior_name = _prior_name(config.base)
    if config.prior_scale:
        spec = {"model": prior_name, "scale": config.prior_scale}
        (folder / PRIOR_FILE).write_text(json.dumps(spec), encoding="utf-8")
    before = after = None
    if evaluate and not run.interrupted:
        prior_encoder = load_model(prior_name) if config.prior_scale else None
        scorer = CrossEncoderReranker(model, str(folder), prior_encoder, config.prior_scale)
        dataset = eval_dataset or heldout_dataset(held, [p.positive for p in train])
        before, after = evaluate_reranked(
            bi_encoder, _stored_prior(scorer, dataset.doc_texts()), dataset, bi_name,
            config.candidates,
        )  # fmt: skip
    result = RerankerResult(
        out=str(folder),
        config=asdict(config),
        train_examples=len(groups) * size,
        steps=run.steps,
        seconds=run.seconds,
        examples_per_second=run.examples_per_second,
        device=dev,
        loss_curve=run.curve,
        bi_encoder=before,
        reranked=after,
        mined=mined,
    )
    write_run(folder, result)
    if run.interrupted:
        raise TrainingInterrupted(
            f"Stopped after {run.steps} of {len(batches)} steps; the reranker trained so far is saved in "
            f"{folder} (load_reranker('{folder}')). Train again with --out NEW_FOLDER to finish."
        )
    return result


def _stored_prior(
    scorer: CrossEncoderReranker, texts: Sequence[str]
) -> Callable[[str, list[str]], np.ndarray]:
    """``scorer.score``, reading the candidates' prior vectors from the corpus embedded once
    (as a search reads an index's stored vectors) instead of embedding them per query."""
    if scorer.prior is None:
        return scorer.score
    unique = list(dict.fromkeys(texts))
    where = {t: i for i, t in enumerate(unique)}
    vectors = scorer.prior.embed(unique, role="document")

    def score(query: str, passages: list[str]) -> np.ndarray:
        return scorer.score(query, passages, vectors=vectors[[where[p] for p in passages]])

    return score


def _group_cosines(bi_encoder: Any, groups: Sequence[Sequence[str]], dev: str) -> Any:
    """The bi-encoder's cosine of each group's anchor with each of its passages,
    a ``(groups, passages)`` tensor: the prior a residual reranker adds to its logits."""
    import torch

    texts = list(dict.fromkeys(t for g in groups for t in g))
    where = {t: i for i, t in enumerate(texts)}
    vectors = bi_encoder.encode(
        texts, batch_size=64, normalize_embeddings=True, convert_to_tensor=True,
        show_progress_bar=False,
    ).to(dev)  # fmt: skip
    anchors = vectors[torch.tensor([where[g[0]] for g in groups])]
    passages = vectors[torch.tensor([[where[t] for t in g[1:]] for g in groups])]
    return torch.einsum("gd,gpd->gp", anchors, passages).float()


def _head(net: Any) -> Any:
    """The fresh one-logit head of a sequence-classification transformer."""
    import torch

    head = getattr(net, "classifier", None)
    if not isinstance(head, torch.nn.Linear):
        raise TrainingError(
            f"Cannot train a reranker on {type(net).__name__}: it has no linear classifier head "
            "(expected a BERT-like model): use --base minilm or st:<folder> of a BERT-like "
            "sentence-transformers model."
        )
    return head


def _prior_name(base: str) -> str:
    """How the saved reranker names its bi-encoder: a catalogue name or ``st:<absolute path>``."""
    from embedlab.models.registry import find_spec

    if find_spec(base) is not None:
        return base
    path = Path(base[3:] if base.startswith("st:") else base).expanduser().resolve()
    return f"st:{path}"
