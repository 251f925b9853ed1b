"""``embedlab eval``: make a test collection, run the retrieval grid, word and sentence
benchmarks, and the cost calculator. Thin: parse, call :mod:`embedlab.evaluate`, print."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from embedlab.cli.common import echo_json, json_option, table
from embedlab.cli.index_cmd import ray_options
from embedlab.evaluate.report import Report, write_report
from embedlab.models.ray_pool import on_ray

out_option = click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report: report.html (self-contained), report.json or report.csv.",
)


def _ints(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError as exc:
        raise click.BadParameter(
            f"expected whole numbers separated by commas, got {value!r}"
        ) from exc


def _names(value: str) -> list[str]:
    from embedlab.evaluate.grid import parse_list

    return parse_list(value)


def _show(report: Report, columns: list[str] | None, out: Path | None, as_json: bool) -> None:
    if as_json:
        echo_json({"title": report.title, "rows": report.rows, "notes": report.notes})
    else:
        cols = columns or report.columns
        click.echo(report.title)
        click.echo(
            table(
                [
                    [r.get(c, "") if r.get(c) is not None else "-" for c in cols]
                    for r in report.rows
                ],
                cols,
            )
        )
        for note in report.notes:
            click.echo(f"  {note}", err=True)
    if out is not None:
        click.echo(f"report written to {write_report(report, out)}", err=True)


@click.group("eval")
def eval_group() -> None:
    """Measure: retrieval metrics on your query set, word and sentence benchmarks, costs."""


@eval_group.command("make")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Records with titles: .jsonl, or .csv/.tsv with a header row.",
)
@click.option("--news", is_flag=True, help="Use the bundled news articles instead.")
@click.option("--limit", type=int, default=None, help="Keep the first N records.")
@click.option("--chars", type=int, default=None, help="Keep the first N characters of each body.")
@click.option("--id-field", default="id", show_default=True)
@click.option("--title-field", default="title", show_default=True)
@click.option("--text-field", default="text", show_default=True)
def make_cmd(
    source: Path | None,
    out: Path,
    news: bool,
    limit: int | None,
    chars: int | None,
    id_field: str,
    title_field: str,
    text_field: str,
) -> None:
    """Turn records with titles (--from FILE, or --news) into title -> body pairs in the BEIR
    layout under OUT; each title is a query whose one relevant document is its body."""
    from embedlab.evaluate.make import (
        TitledRecord,
        make_news_dataset,
        make_title_dataset,
        read_titled,
    )

    if news:
        ds = make_news_dataset(out, limit=limit, chars=chars)
    elif source is None:
        raise click.UsageError("Give --from FILE, or --news for the bundled news articles.")
    else:
        recs = read_titled(source, id_field, title_field, text_field)[:limit]
        if chars:
            recs = [TitledRecord(r.id, r.title, r.body[:chars]) for r in recs]
        ds = make_title_dataset(recs, out)
    s = ds.summary()
    click.echo(f"wrote {s['documents']} documents and {s['queries']} queries to {out}")


@eval_group.command("retrieval")
@click.argument("dataset", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--corpus",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The corpus of a (query, doc id) pairs file.",
)
@click.option("--models", "-m", default="minilm", show_default=True, help="Comma-separated models.")
@click.option(
    "--modes",
    default="dense,bm25,hybrid",
    show_default=True,
    help="Comma-separated: dense, bm25, hybrid, rerank.",
)
@click.option("--dims", default=None, help="Comma-separated Matryoshka sizes, e.g. 384,256,128,64.")
@click.option(
    "--quantize", default="none", show_default=True, help="Comma-separated: none, int8, binary."
)
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Results per query (deepest cutoff).",
)
@click.option(
    "--reranker", default=None, help="Cross-encoder name or folder (for the rerank mode)."
)
@click.option("--rescore", is_flag=True, help="Rescore compressed first stages with float vectors.")
@click.option(
    "--candidates",
    type=int,
    default=None,
    metavar="N",
    help="With --rescore: the rescoring depth of every --dims/--quantize configuration "
    "(at least k; default: each stage's own, see 'embedlab search --help').",
)
@click.option("--no-cache", is_flag=True, help="Re-embed even when cached vectors exist.")
@ray_options
@out_option
@json_option
def retrieval_cmd(
    dataset: Path,
    corpus: Path | None,
    models: str,
    modes: str,
    dims: str | None,
    quantize: str,
    k: int,
    reranker: str | None,
    rescore: bool,
    candidates: int | None,
    no_cache: bool,
    ray_address: str | None,
    ray_batch: int,
    ray_actors: int,
    out: Path | None,
    as_json: bool,
) -> None:
    """Run every (model, mode, dims, quantization) on DATASET (a BEIR folder, or a TSV/CSV of
    query and relevant doc id with --corpus) and print one table."""
    from embedlab.evaluate.datasets import load_dataset
    from embedlab.evaluate.grid import run_grid
    from embedlab.evaluate.report import grid_report
    from embedlab.figures.evaluate import add_grid_figures

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_dataset(dataset, corpus)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    grid = run_grid(
        ds,
        [on_ray(m, ray_address, batch_size=ray_batch, actors=ray_actors) for m in _names(models)],
        _names(modes),
        _ints(dims),
        _names(quantize),
        k=k,
        reranker=reranker,
        rescore=rescore,
        candidates=candidates,
        cache=not no_cache,
        progress=lambda msg: click.echo(msg, err=True),
    )
    report = add_grid_figures(grid_report(grid))
    cols = [
        "config",
        f"nDCG@{k}",
        "MRR",
        "MAP",
        f"recall@{k}",
        "P@1",
        "bytes_per_vector",
        "index_mb",
        "search_ms",
        "latency_ms",
    ]
    _show(report, cols, out, as_json)


@eval_group.command("words")
@click.option(
    "--models",
    "-m",
    default="glove-50d",
    show_default=True,
    help="Comma-separated word-vector models.",
)
@click.option(
    "--analogies",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Analogy file (default: gensim's questions-words.txt).",
)
@click.option(
    "--pairs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Word-pair file(s) (default: WordSim-353). Repeatable.",
)
@click.option(
    "--restrict-vocab",
    type=click.IntRange(min=1),
    default=300000,
    show_default=True,
    help="Only the first N words count.",
)
@click.option(
    "--method", "methods", default="3cosadd", show_default=True, help="3cosadd, 3cosmul or both."
)
@out_option
@json_option
def words_cmd(
    models: str,
    analogies: Path | None,
    pairs: tuple[Path, ...],
    restrict_vocab: int,
    methods: str,
    out: Path | None,
    as_json: bool,
) -> None:
    """Analogy accuracy and word-similarity correlations, equal to gensim's."""
    from embedlab.evaluate.suites import words_report
    from embedlab.figures.evaluate import add_word_figures

    report = words_report(
        _names(models),
        analogies=analogies,
        pairs=list(pairs) or None,
        restrict_vocab=restrict_vocab,
        methods=_names(methods),
    )
    _show(add_word_figures(report), None, out, as_json)


@eval_group.command("sentences")
@click.option("--models", "-m", default="minilm", show_default=True, help="Comma-separated models.")
@out_option
@json_option
def sentences_cmd(models: str, out: Path | None, as_json: bool) -> None:
    """Lee document similarity: correlation of each model's cosines with human ratings."""
    from embedlab.evaluate.suites import sentences_report
    from embedlab.figures.evaluate import add_sentence_figures

    _show(add_sentence_figures(sentences_report(_names(models))), None, out, as_json)


@eval_group.command("cost")
@click.option(
    "-n",
    "--documents",
    "n",
    type=click.IntRange(min=1),
    required=True,
    help="Number of documents (vectors).",
)
@click.option("--model", "-m", default="minilm", show_default=True)
@click.option("--dims", default=None, help="Comma-separated sizes (default: the model's).")
@click.option("--quantize", default="none,int8,binary", show_default=True)
@click.option("--rescore", is_flag=True, help="Keep float vectors too, to rescore.")
@click.option(
    "--measure-model", is_flag=True, help="Also measure query embedding (loads the model)."
)
@out_option
@json_option
def cost_cmd(
    n: int,
    model: str,
    dims: str | None,
    quantize: str,
    rescore: bool,
    measure_model: bool,
    out: Path | None,
    as_json: bool,
) -> None:
    """Storage, RAM and query latency for N documents, measured here and extrapolated."""
    from embedlab.evaluate.cost import cost_table
    from embedlab.evaluate.report import simple_report
    from embedlab.figures.evaluate import cost_bars

    estimates = cost_table(
        n, model, _ints(dims), _names(quantize), rescore=rescore, measure_model=measure_model
    )
    rows: list[dict[str, Any]] = [
        {**e.to_dict(), "storage_mb": e.storage_bytes / 1e6, "ram_mb": e.ram_bytes / 1e6}
        for e in estimates
    ]
    cols = [
        "model",
        "dims",
        "quantize",
        "bytes_per_vector",
        "storage_mb",
        "ram_mb",
        "search_ms",
        "embed_query_ms",
    ]
    report = simple_report(
        f"Cost of {n:,} documents",
        rows,
        cols,
        [cost_bars(rows)],
        [estimates[0].assumption] if estimates else [],
    )
    _show(report, cols, out, as_json)


COMMANDS: list[click.Command] = [eval_group]

from embedlab.cli.eval_rag_cmd import rag_cmd  # noqa: E402 (its own module, kept short here)

eval_group.add_command(rag_cmd)
