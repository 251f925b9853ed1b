"""``embedlab train``: word2vec, contrastive fine-tuning of a bi-encoder, a reranker, InfoNCE."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from embedlab.cli.common import echo_json, json_option, model_option, table
from embedlab.train.common import TrainingInterrupted, to_jsonable
from embedlab.train.distill import DEFAULT_PCA_DIMS, distill_static, read_vocabulary
from embedlab.train.embedder import EmbedderConfig, EmbedderResult, train_embedder
from embedlab.train.infonce import DEFAULT_TEMPERATURES, explain_infonce
from embedlab.train.mining import METHODS
from embedlab.train.pairs import Pair, load_pairs, news_pairs, pairs_from_index
from embedlab.train.reranker import RerankerConfig, train_reranker
from embedlab.train.w2v_engines import ARCHS, ENGINES, Word2VecConfig
from embedlab.train.word2vec import Word2VecResult, train_word2vec

T = TypeVar("T")


class _Bar:
    """A tqdm bar (stderr) fed by a trainer's progress callback."""

    def __init__(self, quiet: bool, unit: str) -> None:
        self.quiet, self.unit, self.bar = quiet, unit, None
        self.desc = ""

    def steps(self, step: int, total: int, loss: float) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=self.unit, desc="training", file=sys.stderr)
        self.bar.update(step - self.bar.n)  # type: ignore[attr-defined]
        self.bar.set_postfix(loss=f"{loss:.3f}", refresh=False)  # type: ignore[attr-defined]

    def epochs(self, epoch: int, fraction: float) -> None:
        if self.quiet:
            return
        if self.bar is None or self.desc != f"epoch {epoch + 1}":
            self.close()
            from tqdm import tqdm

            self.desc = f"epoch {epoch + 1}"
            self.bar = tqdm(total=1000, desc=self.desc, unit="‰", file=sys.stderr)
        self.bar.update(int(fraction * 1000) - self.bar.n)  # type: ignore[attr-defined]

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()  # type: ignore[attr-defined]
            self.bar = None


def _run_steps(quiet: bool, run: Callable[[Callable[[int, int, float], None]], T]) -> T:
    """``run(progress)`` under a step progress bar; an interrupted run prints how to go on
    (the trainer saved what it had) and exits 130."""
    bar = _Bar(quiet, "step")
    try:
        return run(bar.steps)
    except TrainingInterrupted as exc:
        bar.close()
        click.echo(str(exc), err=True)
        sys.exit(130)
    finally:
        bar.close()


def _range(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    """``--rank-range LOW:HIGH`` with 1 <= LOW <= HIGH, checked while parsing."""
    lo, _, hi = value.partition(":")
    try:
        low, high = int(lo), int(hi)
    except ValueError as exc:
        raise click.BadParameter(f"give LOW:HIGH ranks such as 2:30, not {value!r}") from exc
    if not 1 <= low <= high:
        raise click.BadParameter(f"ranks must satisfy 1 <= LOW <= HIGH, not {value!r}")
    return low, high


def _dims(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...]:
    """``--matryoshka 384,256,...``: whole numbers of at least 1, checked while parsing."""
    if not value:
        return ()
    try:
        dims = tuple(int(v) for v in value.split(","))
    except ValueError as exc:
        raise click.BadParameter(f"give dims as 384,256,128,64, not {value!r}") from exc
    if min(dims) < 1:
        raise click.BadParameter(f"dims must be at least 1, not {value!r}")
    return dims


def _needs_cross_encoder(method: str, cross_encoder: str | None) -> None:
    if method == "cross-encoder" and not cross_encoder:
        raise click.UsageError("Mining with a cross-encoder needs --cross-encoder FOLDER.")


def _pairs(pairs_file: str | None, from_index: str | None, news: int | None) -> list[Pair]:
    given = [x for x in (pairs_file, from_index, news) if x]
    if len(given) != 1:
        raise click.UsageError("Give exactly one of --pairs FILE, --from-index NAME or --news N.")
    if pairs_file:
        return load_pairs(pairs_file)
    if from_index:
        return pairs_from_index(from_index)
    return news_pairs(news)


@click.group("train")
def train() -> None:
    """Train word vectors, fine-tune a bi-encoder, train a reranker, explain InfoNCE."""


@train.command("word2vec")
@click.argument("corpus", type=click.Path(exists=True))
@click.option("--out", required=True, type=click.Path(), help="Folder for the word vectors.")
@click.option("--arch", type=click.Choice(ARCHS), default="skipgram", show_default=True)
@click.option("--dim", default=100, show_default=True)
@click.option("--window", default=5, show_default=True)
@click.option("--negative", default=5, show_default=True)
@click.option("--min-count", default=5, show_default=True)
@click.option("--epochs", default=5, show_default=True)
@click.option("--engine", type=click.Choice(list(ENGINES)), default="gensim", show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--workers", type=int, default=None,
              help="gensim threads (default: up to 4); 1 makes a run repeat exactly.")  # fmt: skip
@click.option("--watch", multiple=True, help="Word pair a:b whose cosine is traced per epoch.")
@click.option("--overwrite", is_flag=True, help="Replace the output folder.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@json_option
def word2vec_cmd(corpus: str, out: str, arch: str, dim: int, window: int, negative: int, min_count: int,
                 epochs: int, engine: str, seed: int, workers: int | None, watch: tuple[str, ...],
                 overwrite: bool, resume: bool, quiet: bool, as_json: bool) -> None:  # fmt: skip
    """Train word2vec on CORPUS (a text file or folder); open it as words:<out>."""
    config = Word2VecConfig(arch=arch, dim=dim, window=window, negative=negative,
                            min_count=min_count, epochs=epochs, engine=engine, seed=seed,
                            workers=workers)  # fmt: skip
    pairs = [tuple(w.split(":", 1)) for w in watch]
    bar = _Bar(quiet, "epoch")
    try:
        result = train_word2vec(corpus, out, config, overwrite=overwrite, resume=resume,
                                watch=pairs, progress=bar.epochs)  # type: ignore[arg-type]  # fmt: skip
    finally:
        bar.close()
    if as_json:
        echo_json(to_jsonable(result.to_dict()))
    else:
        _word2vec_report(result)
    if result.interrupted:
        click.echo(f"Interrupted: checkpoint saved. Resume with: {result.resume_hint}", err=True)
        sys.exit(130)


def _word2vec_report(r: Word2VecResult) -> None:
    click.echo(
        f"{r.vocab_size} words from a corpus of {r.corpus_words}; {r.words_per_second:,.0f} words/s."
    )
    rows = [[h.epoch, h.loss, h.words, h.seconds, *h.similarities.values()] for h in r.history]
    sims = list(r.history[0].similarities) if r.history else []
    click.echo(table(rows, ["epoch", "loss", "words", "seconds", *sims]))
    click.echo(f"(loss: {r.loss_label})")
    if r.evaluation:
        a, w = r.evaluation.analogies, r.evaluation.word_pairs
        click.echo(
            f"analogies: {a.accuracy:.2%} of {a.sections[-1].total} in vocabulary ({a.oov_ratio:.0f}% OOV)"
        )
        click.echo(
            f"WordSim-353: Spearman {w.spearman:.3f} over {w.pairs} pairs ({w.oov_ratio:.0f}% OOV)"
        )
    for word, near in r.neighbours.items():
        click.echo(f"{word}: " + ", ".join(f"{n} {s:.2f}" for n, s in near[:6]))
    click.echo(f"Saved to {r.out} (load it as words:{r.out}).")


_pair_options = [
    click.option(
        "--base", default="minilm", show_default=True, help="The bi-encoder to start from."
    ),
    click.option(
        "--pairs",
        "pairs_file",
        type=click.Path(exists=True),
        help="JSONL of anchor/positive[/negative].",
    ),
    click.option("--from-index", help="Use title -> body pairs of this index."),
    click.option(
        "--news", type=click.IntRange(min=1), help="Use N title -> article pairs of the news set."
    ),
    click.option("--out", required=True, type=click.Path(), help="Output folder."),
    click.option("--epochs", type=click.IntRange(min=1), default=1, show_default=True),
    click.option("--max-seq-length", type=click.IntRange(min=1), default=128, show_default=True),
    click.option("--overwrite", is_flag=True, help="Replace the output folder."),
    click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
    json_option,
]


def _with_pair_options(f: Any) -> Any:
    for opt in reversed(_pair_options):
        f = opt(f)
    return f


@train.command("embedder")
@_with_pair_options
@click.option("--loss", type=click.Choice(["infonce"]), default="infonce", show_default=True)
@click.option(
    "--temperature", default=0.05, show_default=True, help="InfoNCE temperature (scale = 1/T)."
)
@click.option("--hard-negatives", type=click.Choice(METHODS), default="none", show_default=True)
@click.option(
    "--margin",
    default=0.0,
    show_default=True,
    help="Negatives must score this far below the positive.",
)
@click.option(
    "--rank-range",
    default="2:30",
    show_default=True,
    callback=_range,
    help="Ranks a mined negative may come from.",
)
@click.option("--cross-encoder", help="Reranker folder for --hard-negatives cross-encoder.")
@click.option(
    "--matryoshka", callback=_dims, help="Dims for MatryoshkaLoss, e.g. 384,256,128,64,32."
)
@click.option("--batch", type=click.IntRange(min=2), default=32, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=5e-5, show_default=True)
@click.option(
    "--eval",
    "eval_path",
    type=click.Path(exists=True),
    help="Evaluate on this data set instead of a held-out split.",
)
def embedder_cmd(base: str, pairs_file: str | None, from_index: str | None, news: int | None, out: str,
                 epochs: int, max_seq_length: int, overwrite: bool, quiet: bool, as_json: bool, loss: str,
                 temperature: float, hard_negatives: str, margin: float, rank_range: tuple[int, int],
                 cross_encoder: str | None, matryoshka: tuple[int, ...], batch: int, lr: float,
                 eval_path: str | None) -> None:  # fmt: skip
    """Fine-tune a bi-encoder with InfoNCE on (anchor, positive) pairs; open it as st:<out>."""
    _needs_cross_encoder(hard_negatives, cross_encoder)
    config = EmbedderConfig(base=base, loss=loss, temperature=temperature, hard_negatives=hard_negatives,
                            margin=margin, rank_range=rank_range, matryoshka=matryoshka,
                            epochs=epochs, batch=batch, lr=lr, max_seq_length=max_seq_length)  # fmt: skip
    dataset = None
    if eval_path:
        from embedlab.evaluate.datasets import load_dataset

        dataset = load_dataset(eval_path)
    result = _run_steps(
        quiet,
        lambda progress: train_embedder(
            _pairs(pairs_file, from_index, news), out, config, eval_dataset=dataset,
            reranker=cross_encoder, overwrite=overwrite, progress=progress,
        ),
    )  # fmt: skip
    if as_json:
        echo_json(to_jsonable(result))
        return
    _embedder_report(result)


def _embedder_report(r: EmbedderResult) -> None:
    click.echo(
        f"{r.train_pairs} pairs, {r.steps} steps on {r.device}, {r.examples_per_second:.1f} examples/s."
    )
    flagged = sum(m.likely_false_negative for m in r.mined)
    if r.mined:
        click.echo(
            f"mined {len(r.mined)} candidates, {flagged} flagged as likely false negatives (see train.json)"
        )
    rows = [
        [b.dims, b.recall10, a.recall10, b.ndcg10, a.ndcg10]
        for b, a in zip(r.before, r.after, strict=True)
    ]
    click.echo(table(rows, ["dims", "recall@10 before", "after", "nDCG@10 before", "after"]))
    click.echo(f"Saved to {r.out} (load it as st:{r.out}).")


@train.command("reranker")
@_with_pair_options
@click.option(
    "--hard-negatives", type=click.Choice(["dense", "bm25"]), default="dense", show_default=True
)
@click.option(
    "--negatives", default=4, show_default=True, help="Negatives per pair (1 of them random)."
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="(anchor, passage) pairs per step.",
)
@click.option(
    "--prior-scale", default=20.0, show_default=True,
    help="Score = logit + SCALE x the base bi-encoder's cosine (residual); 0 = plain cross-encoder.",
)  # fmt: skip
def reranker_cmd(base: str, pairs_file: str | None, from_index: str | None, news: int | None, out: str,
                 epochs: int, max_seq_length: int, overwrite: bool, quiet: bool, as_json: bool,
                 hard_negatives: str, negatives: int, batch: int, prior_scale: float) -> None:  # fmt: skip
    """Train a cross-encoder reranker from the MiniLM weights; search with --rerank <out>."""
    config = RerankerConfig(base=base, hard_negatives=hard_negatives, negatives_per_pair=negatives,
                            epochs=epochs, batch=batch, max_seq_length=max_seq_length,
                            prior_scale=prior_scale)  # fmt: skip
    r = _run_steps(
        quiet,
        lambda progress: train_reranker(
            _pairs(pairs_file, from_index, news),
            out,
            config,
            overwrite=overwrite,
            progress=progress,
        ),
    )
    if as_json:
        echo_json(to_jsonable(r))
        return
    click.echo(
        f"{r.train_examples} examples, {r.steps} steps on {r.device}, {r.examples_per_second:.1f} examples/s."
    )
    if r.bi_encoder and r.reranked:
        rows = [
            [s.model, s.metrics["recall@10"], s.ndcg10, s.metrics["MRR"]]
            for s in (r.bi_encoder, r.reranked)
        ]
        click.echo(table(rows, ["retrieval", "recall@10", "nDCG@10", "MRR"]))
    click.echo(f"Saved to {r.out} (load_reranker('{r.out}')).")


@train.command("mine")
@click.option(
    "--pairs", "pairs_file", type=click.Path(exists=True), help="JSONL of anchor/positive."
)
@click.option("--from-index", help="Use title -> body pairs of this index.")
@click.option(
    "--news", type=click.IntRange(min=1), help="Use N title -> article pairs of the news set."
)
@click.option("--method", type=click.Choice(METHODS[1:]), default="bm25", show_default=True)
@click.option(
    "--base",
    default="minilm",
    show_default=True,
    help="Bi-encoder for dense / cross-encoder mining.",
)
@click.option("--cross-encoder", help="Reranker folder for --method cross-encoder.")
@click.option("--margin", default=0.0, show_default=True)
@click.option("--rank-range", default="2:30", show_default=True, callback=_range)
@click.option(
    "--limit", type=click.IntRange(min=0), default=20, show_default=True, help="Rows to print."
)
@json_option
def mine_cmd(pairs_file: str | None, from_index: str | None, news: int | None, method: str, base: str,
             cross_encoder: str | None, margin: float, rank_range: tuple[int, int], limit: int,
             as_json: bool) -> None:  # fmt: skip
    """Show the hard negatives a fine-tune would use, with scores; flags likely false negatives."""
    from embedlab.train.embedder import load_bi_encoder
    from embedlab.train.mining import mine_hard_negatives

    _needs_cross_encoder(method, cross_encoder)
    pairs = _pairs(pairs_file, from_index, news)  # before the model loads
    model = None if method == "bm25" else load_bi_encoder(base)[0]
    mined = mine_hard_negatives(pairs, method, model=model, reranker=cross_encoder,
                                margin=margin, rank_range=rank_range)  # fmt: skip
    if as_json:
        echo_json(to_jsonable(mined))
        return
    rows = [[m.anchor[:40], m.negative[:50], m.rank, m.positive_score, m.negative_score,
             "FALSE NEGATIVE?" if m.likely_false_negative else ""] for m in mined[:limit]]  # fmt: skip
    click.echo(
        table(rows, ["query", "negative", "rank", "positive score", "negative score", "flag"])
    )
    flagged = sum(m.likely_false_negative for m in mined)
    click.echo(f"{len(mined)} candidates, {flagged} flagged as likely false negatives (score within "
               f"{margin} of the positive or above it: never trained on).")  # fmt: skip


@train.command("infonce")
@click.argument("anchor")
@click.argument("positive")
@click.argument("negatives", nargs=-1, required=True)
@model_option
@json_option
def infonce_cmd(
    anchor: str, positive: str, negatives: tuple[str, ...], model: str, as_json: bool
) -> None:
    """InfoNCE loss, P(positive) and gradients per temperature for ANCHOR, POSITIVE, NEGATIVES."""
    from embedlab.models import load_model

    vectors = load_model(model).embed([anchor, positive, *negatives])
    ex = explain_infonce(anchor, positive, list(negatives), vectors, DEFAULT_TEMPERATURES)
    if as_json:
        echo_json(to_jsonable(ex))
        return
    click.echo(f"cosines: positive {ex.points[0].similarities[0]:.3f}, negatives "
               + ", ".join(f"{s:.3f}" for s in ex.points[0].similarities[1:]))  # fmt: skip
    rows = [[p.temperature, p.loss, p.p_positive, p.grad_similarities[1 + ex.hardest],
             p.grad_similarities[1 + ex.easiest]] for p in ex.points]  # fmt: skip
    click.echo(
        table(
            rows, ["temperature", "loss", "P(positive)", "dL/ds hardest neg", "dL/ds easiest neg"]
        )
    )


@train.command("distill")
@click.option("--base", default="minilm", show_default=True,
              help="A sentence-transformers model: minilm, mpnet, st:<folder> or a folder.")  # fmt: skip
@click.option("--out", required=True, type=click.Path(), help="Folder for the static model.")
@click.option("--pca-dims", default=DEFAULT_PCA_DIMS, show_default=True,
              help="Dimensions PCA keeps (0 keeps the base model's).")  # fmt: skip
@click.option("--vocabulary", type=click.Path(exists=True, dir_okay=False),
              help="Text file of extra words, one a line (whole words become tokens).")  # fmt: skip
@click.option("--vocabulary-only", is_flag=True,
              help="Keep only the --vocabulary words, not the base's subword tokens (small, word-level).")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace the output folder.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@json_option
def distill_cmd(base: str, out: str, pca_dims: int, vocabulary: str | None, vocabulary_only: bool,
                overwrite: bool, quiet: bool, as_json: bool) -> None:  # fmt: skip
    """Distil a sentence model into a static model2vec model; open it as static:<out>."""
    words = read_vocabulary(vocabulary) if vocabulary else None
    say = None if quiet else (lambda msg: click.echo(msg, err=True))
    r = distill_static(base, out, pca_dims=pca_dims or None, vocabulary=words,
                       vocabulary_only=vocabulary_only, overwrite=overwrite, progress=say)  # fmt: skip
    if as_json:
        echo_json(to_jsonable(r))
        return
    click.echo(
        f"{r.tokens:,} tokens x {r.dims} dims ({r.size_mb:.1f} MB) distilled from {r.base} in "
        f"{r.seconds:.1f} s; fingerprint {r.fingerprint}."
    )
    click.echo(f"Saved to {r.out} (load it as static:{r.out}).")


COMMANDS: list[click.Command] = [train]
