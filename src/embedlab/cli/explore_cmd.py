"""``embed``, ``similarity``, ``compare`` and ``analogy``: look at what models do with text.

Thin commands: parse, call :mod:`embedlab.explore`, print. Library errors become a
one-line message and exit status 1 (see :mod:`embedlab.cli.main`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import click

from embedlab.cli.common import echo_json, json_option, model_option, table
from embedlab.data.text import read_text
from embedlab.explore.analogy import METHODS, analogy
from embedlab.explore.compare import compare_models, inspect_across
from embedlab.explore.inspect import TextInspection, inspect_texts, vector_picture
from embedlab.explore.similarity import score_matrix, score_pair
from embedlab.models.base import ROLES, as_text_list
from embedlab.models.registry import load_model
from embedlab.vectors.similarity import METRICS

role_option = click.option(
    "--role",
    type=click.Choice(ROLES),
    default="document",
    show_default=True,
    help="Embed as a document or as a query (models like E5 add a different prefix).",
)
metric_option = click.option(
    "--metric",
    type=click.Choice(list(METRICS)),
    default="cosine",
    show_default=True,
    help="cosine and dot: higher is closer; euclidean: a distance, lower is closer.",
)
file_option = click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A text file with one text per line (blank lines are skipped).",
)


def _read_lines(path: Path) -> list[str]:
    lines = [ln.strip() for ln in read_text(path).splitlines()]
    texts = [ln for ln in lines if ln]
    if not texts:
        raise click.UsageError(f"{path} has no text in it: put one text per line.")
    return texts


def _short(text: str, width: int = 32) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _models(spec: str) -> list[str]:
    names = [m.strip() for m in spec.split(",") if m.strip()]
    if len(names) < 2:
        raise click.UsageError("--models needs two or more models, e.g. --models minilm,glove-50d")
    return names


def _echo_inspection(ins: TextInspection, normalized: bool) -> None:
    s = ins.stats
    rows = [
        ("model", f"{ins.model} ({s.dims} dims{', normalised' if normalized else ''})"),
        ("role", ins.role),
        ("tokens", ins.token_note),
        ("time", f"inference {_ms(ins.seconds)}  (model load {_ms(ins.load_seconds)}, once)"),
        ("range", f"min {s.min:+.4f}  max {s.max:+.4f}  mean {s.mean:+.4f}  std {s.std:.4f}"),
        ("norm", f"L2 {s.l2_norm:.4f}  sparsity {s.sparsity * 100:.1f}% of dims |v| < 1e-3"),
        ("top dims", "  ".join(f"#{d} {v:+.3f}" for d, v in s.top_dims)),
    ]
    if ins.unknown_words:
        rows.append(("unknown", "words the model does not know: " + ", ".join(ins.unknown_words)))
    for label, value in rows:
        click.echo(f"{label:<9} {value}")
    peak = max(abs(s.min), abs(s.max))
    click.echo(f"\nvector: one column per dim; upper line > 0, lower line < 0; █ = |v| {peak:.3f}")
    for row in vector_picture(ins.vector):
        label = f"{row.first_dim:>4}-{row.last_dim:<4}"
        click.echo(f"{label} {click.style(row.positive, fg='green')}")
        click.echo(f"{'':9} {click.style(row.negative, fg='red')}")


@click.command("embed", short_help="Show a text's vector: stats, tokens, time, picture.")
@click.argument("text")
@model_option
@role_option
@click.option("--no-truncate", is_flag=True,
              help="Refuse a text over the model's token limit instead of cutting it.")  # fmt: skip
@json_option
def embed_command(text: str, model: str, role: str, no_truncate: bool, as_json: bool) -> None:
    """Embed TEXT and show its vector: stats, tokens, timing and a picture of every dim."""
    as_text_list(text)  # an empty text is refused before the model loads
    encoder = load_model(model)
    ins = inspect_texts(encoder, text, role=role, truncate=not no_truncate)[0]
    if as_json:
        echo_json(ins.to_dict())
        return
    _echo_inspection(ins, encoder.info.normalized)


def _write_csv(path: Path, texts: list[str], rows: list[list[float]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", *texts])
        for t, r in zip(texts, rows, strict=True):
            w.writerow([t, *(f"{x:.6f}" for x in r)])


def _matrix_table(texts: list[str], rows: list[list[float]]) -> str:
    headers = ["", *[str(i + 1) for i in range(len(texts))]]
    body = [
        [f"{i + 1} {_short(t, 28)}", *r] for i, (t, r) in enumerate(zip(texts, rows, strict=True))
    ]
    return table(body, headers)


@click.command("similarity", short_help="Score two texts (calibrated), or a file as a matrix.")
@click.argument("texts", nargs=-1)
@model_option
@metric_option
@role_option
@file_option
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --file: also write the matrix to this CSV file.")  # fmt: skip
@json_option
def similarity_command(
    texts: tuple[str, ...], model: str, metric: str, role: str, file: Path | None,
    csv_out: Path | None, as_json: bool,
) -> None:  # fmt: skip
    """Score two texts A B, with how the score ranks among unrelated pairs for the model;
    or, with --file, every line against every line (an N x N matrix).
    """
    if file is None and len(texts) != 2:
        raise click.UsageError('Give two texts ("A" "B"), or --file with one text per line.')
    if file is not None and texts:
        raise click.UsageError("Give either two texts or --file, not both.")
    if csv_out is not None and file is None:
        raise click.UsageError("--csv writes the matrix of --file: add --file.")
    lines = _read_lines(file) if file is not None else as_text_list(texts)  # before the model
    encoder = load_model(model)
    if file is None:
        pair = score_pair(encoder, texts[0], texts[1], metric=metric, role=role)
        if as_json:
            echo_json(pair.to_dict())
            return
        click.echo(f"{metric:<9} {pair.score:.4f}   ({pair.model})")
        if metric != "cosine":
            click.echo(f"{'cosine':<9} {pair.cosine:.4f}")
        bg = pair.background
        click.echo(f"reading   cosine {pair.reading}")
        click.echo(
            f"          (percentile {pair.percentile:.1f} among {int(bg['n_pairs']):,} unrelated "
            f"pairs for {pair.model}: median {bg['p50']:.3f}, 95th percentile {bg['p95']:.3f})"
        )
        click.echo(
            f"time      inference {_ms(pair.seconds)}  (model load {_ms(pair.load_seconds)})"
        )
        return
    result = score_matrix(encoder, lines, metric=metric, role=role)
    if csv_out is not None:
        _write_csv(csv_out, result.texts, result.rows())
    if as_json:
        echo_json(result.to_dict())
        return
    closer = "higher is closer" if result.higher_is_closer else "lower is closer"
    click.echo(f"{metric} ({closer}), model {result.model}, inference {_ms(result.seconds)}\n")
    click.echo(_matrix_table(result.texts, result.rows()))
    if csv_out is not None:
        click.echo(f"\nwrote {csv_out}")


def _echo_side_by_side(items: list[TextInspection]) -> None:
    def row(label: str, fn: object) -> list[object]:
        return [label, *(fn(i) for i in items)]  # type: ignore[operator]

    rows = [
        row("dims", lambda i: i.stats.dims),
        row("tokens", lambda i: "?" if i.tokens is None else f"{i.tokens}/{i.max_tokens or '-'}"),
        row("truncated", lambda i: "yes" if i.truncated else "no"),
        row("min", lambda i: i.stats.min),
        row("max", lambda i: i.stats.max),
        row("mean", lambda i: i.stats.mean),
        row("std", lambda i: i.stats.std),
        row("L2 norm", lambda i: i.stats.l2_norm),
        row("sparsity %", lambda i: f"{i.stats.sparsity * 100:.1f}"),
        row("inference", lambda i: _ms(i.seconds)),
        row("load", lambda i: _ms(i.load_seconds)),
    ]
    click.echo(table(rows, ["", *(i.model for i in items)]))
    click.echo("\nVectors of different models live in different spaces: compare their stats "
               "and (with --file) how each arranges texts, never a cosine across models.")  # fmt: skip


@click.command("compare", short_help="Compare models on a text or a file of texts.")
@click.argument("text", required=False)
@click.option("--models", "models_spec", required=True, metavar="A,B[,C]",
              help="Two or more models, comma-separated.")  # fmt: skip
@file_option
@click.option("-k", "k", type=click.IntRange(min=1), default=3, show_default=True,
              help="Neighbours per text for the overlap (with --file).")  # fmt: skip
@json_option
def compare_command(
    text: str | None, models_spec: str, file: Path | None, k: int, as_json: bool
) -> None:
    """Run TEXT through several models side by side; with --file, compare how the models
    arrange a set of texts (rank correlation and shared neighbours).
    """
    if (text is None) == (file is None):
        raise click.UsageError("Give one TEXT, or --file with one text per line.")
    names = _models(models_spec)
    lines = _read_lines(file) if file is not None else []  # before the models load
    encoders = [load_model(m) for m in names]
    if text is not None:
        items = inspect_across(encoders, text)
        if as_json:
            echo_json([i.to_dict(with_vector=False) for i in items])
            return
        _echo_side_by_side(items)
        return
    result = compare_models(encoders, lines, k=k)
    if as_json:
        echo_json(result.to_dict())
        return
    for name, m in result.matrices.items():
        click.echo(f"\n{name}: cosine matrix (inference {_ms(result.seconds[name])})")
        click.echo(_matrix_table(result.texts, [[float(x) for x in r] for r in m]))
    click.echo("\nagreement between models (Spearman of the matrices' upper triangles; "
               f"share of shared top-{result.k} neighbours)")  # fmt: skip
    click.echo(table([(p.model_a, p.model_b, p.spearman, p.mean_overlap) for p in result.pairs],
                     ["model", "model", "spearman", f"top-{result.k} overlap"]))  # fmt: skip
    click.echo("\ntexts, most disagreement first (neighbours by text number)")
    rows = [
        [t.index + 1, _short(t.text, 36), t.overlap, t.row_spearman,
         *(",".join(str(j + 1) for j in t.neighbours[m]) for m in result.models)]
        for t in result.by_text
    ]  # fmt: skip
    click.echo(table(rows, ["#", "text", "overlap", "row rho", *result.models]))


@click.command("analogy", short_help="Solve A - B + C (king - man + woman).")
@click.argument("a")
@click.argument("b")
@click.argument("c")
@click.option("--model", "-m", default="glove-50d", show_default=True,
              help="A word-vector model (searches its vocabulary) or a sentence model "
              "(searches a built-in list of words and phrases, or --candidates).")  # fmt: skip
@click.option("-k", "k", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many answers to show.")  # fmt: skip
@click.option("--method", type=click.Choice(list(METHODS)), default="3cosadd",
              show_default=True, help="3cosadd: cos(x, a-b+c); 3cosmul: Levy & Goldberg.")  # fmt: skip
@click.option("--keep-inputs", is_flag=True, help="Let A, B and C themselves be answers.")
@click.option("--expected", help="Report the rank of this answer (e.g. queen).")
@click.option("--restrict", type=click.IntRange(min=1), default=None,
              help="Word vectors: search only the first N (most frequent) words.")  # fmt: skip
@click.option("--candidates", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file of candidate answers, one per line.")  # fmt: skip
@json_option
def analogy_command(
    a: str, b: str, c: str, model: str, k: int, method: str, keep_inputs: bool,
    expected: str | None, restrict: int | None, candidates: Path | None, as_json: bool,
) -> None:  # fmt: skip
    """Solve A - B + C (king man woman: king - man + woman), best answers first."""
    words = _read_lines(candidates) if candidates is not None else None  # before the model
    encoder = load_model(model)
    result = analogy(
        encoder, a, b, c, k=k, method=method, exclude_inputs=not keep_inputs,
        expected=expected, restrict_vocab=restrict, candidates=words,
    )  # fmt: skip
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(f"{result.expression}   ({result.model}, {result.method}, "
               f"{result.searched:,} candidates searched)")  # fmt: skip
    if result.excluded:
        click.echo(f"inputs left out of the answers: {', '.join(result.excluded)}")
    click.echo(table([(i + 1, t, s) for i, (t, s) in enumerate(result.candidates)],
                     ["rank", "answer", "score"]))  # fmt: skip
    if expected is not None:
        where = "not ranked" if result.expected_rank is None else f"rank {result.expected_rank}"
        score = "" if result.expected_score is None else f" (score {result.expected_score:.4f})"
        click.echo(f"\nexpected {expected!r}: {where}{score}")
    if result.note:
        click.echo(f"note: {result.note}")


COMMANDS: list[click.Command] = [
    embed_command,
    similarity_command,
    compare_command,
    analogy_command,
]
