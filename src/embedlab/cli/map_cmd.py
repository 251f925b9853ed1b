"""``embedlab map``: a 2-D map of a corpus with clusters, outliers and a trust score."""

from __future__ import annotations

from pathlib import Path

import click

from embedlab.cli.common import echo_json, json_option, model_option, table
from embedlab.errors import InputError
from embedlab.maps.projection import METHODS

#: what ``--out`` can write, by file extension.
OUTPUTS = (".html", ".csv")


def _progress(stage: str, fraction: float) -> None:
    click.echo(f"  {stage} ({fraction:.0%})" if 0 < fraction < 1 else f"  {stage}", err=True)


def _clusters(ctx: click.Context, param: click.Parameter, value: str) -> int | str:
    """``--clusters``: 'auto' or a whole number >= 1, checked while parsing (before any model)."""
    if value == "auto":
        return value
    try:
        count = int(value)
    except ValueError:
        raise click.BadParameter(f"use 'auto' or a number, not {value!r}") from None
    if count < 1:
        raise click.BadParameter(f"use 'auto' or a number of at least 1, not {count}")
    return count


@click.command("map")
@click.argument("sources", nargs=-1, required=True)
@model_option
@click.option(
    "--method",
    type=click.Choice(list(METHODS)),
    default="umap",
    show_default=True,
    help="Projection to 2-D.",
)
@click.option(
    "--color-by",
    default="cluster",
    show_default=True,
    help="cluster, trust, outlier, source, or a field of the data.",
)
@click.option(
    "--clusters",
    default="auto",
    show_default=True,
    callback=_clusters,
    help="'auto' (HDBSCAN) or a number of k-means clusters.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the map: .html (standalone page) or .csv (coordinates).",
)
@click.option(
    "--text-field",
    default="text",
    show_default=True,
    help="Field holding the text in jsonl/csv files.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=None,
    help="Map a random sample of this many points (never done unless asked).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--no-cache", is_flag=True, help="Recompute even if a cached map exists.")
@json_option
def map_command(
    sources: tuple[str, ...],
    model: str,
    method: str,
    color_by: str,
    clusters: int | str,
    out: str | None,
    text_field: str,
    sample: int | None,
    seed: int,
    no_cache: bool,
    as_json: bool,
) -> None:
    """Map SOURCES in 2-D: an index name, a file of texts (.txt one per line, .jsonl or .csv
    with a text field), or several files overlaid (coloured by source)."""
    from embedlab.figures.maps import map_figure, map_html
    from embedlab.maps import build_map, load_corpus
    from embedlab.models import load_model

    target = Path(out) if out else None
    if target is not None and target.suffix.lower() not in OUTPUTS:
        raise InputError(f"--out must end in {' or '.join(OUTPUTS)}; got {target.name}.")
    corpus = load_corpus(list(sources), text_field=text_field)
    if color_by not in {"cluster", "trust", "outlier"}:
        corpus.field_values(color_by)  # fail before the slow part
    if color_by == "source" and len(sources) == 1 and not as_json:
        click.echo("  (one source only: every point has the same colour)", err=True)
    encoder = load_model(model)
    m = build_map(
        corpus,
        encoder,
        method=method,
        clusters=clusters,
        seed=seed,
        sample=sample,
        progress=_progress,
        use_cache=not no_cache,
    )
    if target is not None and target.suffix.lower() == ".csv":
        m.write_csv(target)
    elif target is not None:
        map_html(m, map_figure(m, color_by), target)
    if as_json:
        echo_json(m.to_dict(outliers=None) | {"out": str(target) if target else None})
        return
    click.echo(m.note)
    click.echo(
        f"trustworthiness {m.trust.trustworthiness:.3f}; {m.trust.neighbours_kept:.1%} of "
        f"each point's {m.trust.k} nearest neighbours kept on the map"
    )
    if m.separability is not None:
        click.echo(m.separability.verdict)
    rows = [(c.id, c.size, ", ".join(c.words)) for c in m.clustering.clusters[:20]]
    click.echo(table(rows, ["cluster", "size", "distinctive words"]))
    for i in m.outliers.indices[:10]:
        click.echo(f"  outlier (score {m.outliers.scores[i]:.2f}): {m.corpus.texts[i][:100]}")
    if target is not None:
        click.echo(f"wrote {target}")


COMMANDS = [map_command]
