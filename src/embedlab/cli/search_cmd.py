"""``embedlab search NAME "QUERY"``: dense, BM25 or hybrid retrieval, reranking, Matryoshka
and quantized first stages, with ``--explain`` showing each result's path through the stages."""

from __future__ import annotations

import click

from embedlab.cli.common import echo_json, json_option
from embedlab.search.explain import format_explain, format_hits
from embedlab.search.pipeline import MODES, check_options, search
from embedlab.search.rerank import RERANK_CANDIDATES
from embedlab.stores.quantized import QUANTIZATIONS


@click.command("search")
@click.argument("name")
@click.argument("query")
@click.option(
    "-k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="How many results."
)
@click.option(
    "--mode",
    type=click.Choice(list(MODES)),
    default="dense",
    show_default=True,
    help="dense (cosine kNN), bm25 (keywords) or hybrid (reciprocal rank fusion).",
)
@click.option(
    "--rerank",
    "rerank",
    default=None,
    help="Cross-encoder (local folder or hub id) that rescores the top candidates.",
)
@click.option(
    "--rerank-candidates",
    type=click.IntRange(min=1),
    default=RERANK_CANDIDATES,
    show_default=True,
    help="How many candidates the cross-encoder rescores.",
)
@click.option(
    "--dims",
    type=click.IntRange(min=1),
    default=None,
    help="Matryoshka first stage on the first D dimensions, rescored with all.",
)
@click.option(
    "--quantize",
    type=click.Choice(list(QUANTIZATIONS)),
    default=None,
    help="int8 or binary first stage, rescored with float vectors.",
)
@click.option(
    "--candidates",
    type=int,
    default=None,
    metavar="N",
    help="Rescoring depth: how many rows the --dims/--quantize first stage passes to the "
    "float vectors (at least k; default: at least 100, 4k for int8, 20k for binary, more for a "
    "dims cut). --explain and --json show the depth used.",
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Keep chunks whose metadata FIELD equals VALUE (repeatable).",
)
@click.option(
    "--model", "-m", default=None, help="Model for the query (default: the index's own model)."
)
@click.option("--explain", is_flag=True, help="Show each result's rank and score at every stage.")
@json_option
def search_command(
    name: str,
    query: str,
    k: int,
    mode: str,
    rerank: str | None,
    rerank_candidates: int,
    dims: int | None,
    quantize: str | None,
    candidates: int | None,
    filters: tuple[str, ...],
    model: str | None,
    explain: bool,
    as_json: bool,
) -> None:
    """Search index NAME for QUERY."""
    # every option is checked before a model loads
    check_options(
        query,
        k=k,
        mode=mode,
        dims=dims,
        quantize=quantize,
        rerank_candidates=rerank_candidates,
        filters=filters,
        candidates=candidates,
    )
    encoder = None
    if model is not None:
        from embedlab.models import load_model

        encoder = load_model(model)
    result = search(
        name, query, encoder=encoder, k=k, mode=mode, rerank=rerank,
        rerank_candidates=rerank_candidates, dims=dims, quantize=quantize,
        filters=list(filters) or None, candidates=candidates,
    )  # fmt: skip
    if as_json:
        echo_json(result.to_dict())
    elif explain:
        click.echo(format_explain(result))
    else:
        click.echo(format_hits(result))


COMMANDS: list[click.Command] = [search_command]
