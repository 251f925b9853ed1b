"""``embedlab index``: create, update, list, inspect and drop indexes of your documents."""

from __future__ import annotations

import time
from typing import Any

import click

from embedlab.cli.common import echo_json, json_option, model_option, table
from embedlab.models.ray_pool import DEFAULT_ACTORS, DEFAULT_BATCH, on_ray
from embedlab.stores import (
    WriteReport,
    check_index,
    create_index,
    drop_index,
    open_index,
    survey_indexes,
    update_index,
)
from embedlab.stores.chunking import SPLITTERS, ChunkSettings

#: skipped files and lines listed after a run (all of them with --json).
SHOW_SKIPPED = 50


def ray_options(f: Any) -> Any:
    """``--ray ADDRESS``, ``--ray-batch``, ``--ray-actors``: embed on a running Ray cluster."""
    f = click.option(
        "--ray-actors", type=click.IntRange(min=1), default=DEFAULT_ACTORS, show_default=True,
        help="With --ray: encoder actors on the cluster (one CPU and one model load each).",
    )(f)  # fmt: skip
    f = click.option(
        "--ray-batch", type=click.IntRange(min=1), default=DEFAULT_BATCH, show_default=True,
        help="With --ray: texts per actor call.",
    )(f)  # fmt: skip
    return click.option(
        "--ray", "ray_address", default=None, metavar="ADDRESS",
        help="Embed on the Ray cluster at ADDRESS (its head's HOST:PORT); reading, chunking "
        "and writing stay here. Needs embedlab[scale].",
    )(f)  # fmt: skip


class _Bar:
    """A tqdm bar over files, opened on the first progress report (stderr)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None
        self.started = time.monotonic()

    def __call__(self, done: int, total: int, chunks: int) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="file", desc="indexing", leave=True)
        self.bar.n = done
        rate = chunks / max(time.monotonic() - self.started, 1e-9)
        self.bar.set_postfix(chunks_embedded=chunks, chunks_per_s=f"{rate:.1f}", refresh=False)
        self.bar.refresh()

    def stage(self, message: str) -> None:
        """A long step without files (the ANN index after the commit) is starting."""
        self.close()
        if not self.quiet:
            click.echo(f"{message}...", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _report(report: WriteReport, as_json: bool) -> None:
    if as_json:
        echo_json(report.to_dict())
        return
    click.echo(
        f"{report.files_indexed} file(s) indexed, {report.files_unchanged} unchanged, "
        f"{report.files_removed} removed; {report.chunks_embedded} chunk(s) embedded, "
        f"{report.chunks_reused} reused, {report.chunks_removed} removed "
        f"in {report.seconds:.1f} s (embedding {report.embed_seconds:.1f} s)."
    )
    if report.ann in ("built", "updated", "retrained"):
        click.echo(f"ANN index (FAISS IVF) {report.ann} in {report.ann_seconds:.1f} s.")
    if report.skipped:
        click.echo(f"Skipped {len(report.skipped)}:")
        for s in report.skipped[:SHOW_SKIPPED]:
            click.echo(f"  {s.path}:{s.line}: {s.reason}" if s.line else f"  {s.path}: {s.reason}")
        if len(report.skipped) > SHOW_SKIPPED:
            more = len(report.skipped) - SHOW_SKIPPED
            click.echo(f"  ... and {more} more (--json lists them all).")


@click.group("index")
def index_group() -> None:
    """Index your documents once (chunk, embed, store), then search them."""


@index_group.command("create")
@click.argument("name")
@click.argument("paths", nargs=-1, type=click.Path())
@model_option
@click.option(
    "--store", default=None, metavar="STORE",
    help="Where the index lives: 'embedded' or milvus://HOST:PORT (default: EMBEDLAB_STORE).",
)  # fmt: skip
@click.option("--chunk-tokens", default=256, show_default=True, help="Most tokens per chunk.")
@click.option("--overlap", default=32, show_default=True, help="Tokens shared by neighbours.")
@click.option(
    "--chunk-by",
    type=click.Choice(sorted(SPLITTERS)),
    default="tokens",
    show_default=True,
    help="Cut by model tokens, or one chunk per paragraph / sentence.",
)
@click.option("--text-field", default="text", show_default=True, help="jsonl key / csv column.")
@click.option("--title-field", default="title", show_default=True, help="jsonl/csv title.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@ray_options
@json_option
def create_command(
    name: str,
    paths: tuple[str, ...],
    model: str,
    store: str | None,
    chunk_tokens: int,
    overlap: int,
    chunk_by: str,
    text_field: str,
    title_field: str,
    quiet: bool,
    ray_address: str | None,
    ray_batch: int,
    ray_actors: int,
    as_json: bool,
) -> None:
    """Create index NAME from files and folders (txt, md, html, jsonl, csv, pdf)."""
    if not paths:
        raise click.UsageError("Give at least one file or folder to index.")
    chunking = ChunkSettings(chunk_by, chunk_tokens, overlap)
    chunking.validate(None)  # before the model loads (its max_tokens only caps the size)
    bar = _Bar(quiet or as_json)
    try:
        index = create_index(
            name,
            list(paths),
            on_ray(model, ray_address, batch_size=ray_batch, actors=ray_actors),
            chunking=chunking,
            text_field=text_field,
            title_field=title_field,
            progress=bar,
            store=store,
        )
    finally:
        bar.close()
    _report(index.report, as_json)
    if not as_json:
        click.echo(f"Index {name!r}: {len(index)} chunks, model {index.model_name}.")


@index_group.command("update")
@click.argument("name")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@ray_options
@json_option
def update_command(
    name: str,
    quiet: bool,
    ray_address: str | None,
    ray_batch: int,
    ray_actors: int,
    as_json: bool,
) -> None:
    """Re-read the sources of NAME: embed new and changed chunks only, drop removed files."""
    bar = _Bar(quiet or as_json)
    model = None
    if ray_address is not None:  # the index's own model, embedding on the cluster
        model = on_ray(open_index(name).model_name, ray_address, batch_size=ray_batch,
                       actors=ray_actors)  # fmt: skip
    try:
        report = update_index(name, model, progress=bar)
    finally:
        bar.close()
    _report(report, as_json)
    said = [
        f"{n} {what}"
        for n, what in (
            (report.files_resumed, "file(s) resumed at an interrupted run's last checkpoint"),
            (report.checkpoints, "checkpoint(s) committed inside big files"),
        )
        if n
    ]
    if said and not as_json:
        click.echo("; ".join(said) + ".")


@index_group.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List the indexes with their model and size (a damaged one with the reason)."""
    entries = survey_indexes()
    if as_json:
        echo_json(
            [
                e.stats.to_dict() if e.stats else {"name": e.name, "damaged": e.problem}
                for e in entries
            ]
        )
        return
    if not entries:
        click.echo("No indexes yet: 'embedlab index create NAME PATH...'.")
        return
    rows = [
        (s.name, s.engine, s.model, s.documents, s.chunks, s.dims, _size(s.bytes_on_disk))
        if (s := e.stats)
        else (e.name, "-", "DAMAGED", "-", "-", "-", "-")
        for e in entries
    ]
    click.echo(table(rows, ["index", "engine", "model", "files", "chunks", "dims", "disk"]))
    for e in entries:
        if e.stats is None:
            click.echo(f"{e.name}: {e.problem}")


@index_group.command("info")
@click.argument("name")
@json_option
def info_command(name: str, as_json: bool) -> None:
    """Model, fingerprint, counts, size on disk, chunking and sources of index NAME."""
    s = open_index(name).stats()
    if as_json:
        echo_json(s.to_dict())
        return
    chunking = ", ".join(f"{k}={v}" for k, v in s.chunking.items())
    lines = [
        ("index", s.name),
        ("engine", s.engine),
        ("model", s.model),
        ("fingerprint", s.fingerprint),
        ("dims", s.dims),
        ("files", s.documents),
        ("chunks", s.chunks),
        ("disk", _size(s.bytes_on_disk)),
        ("chunking", chunking),
        ("generation", s.generation),
        ("created", s.created),
        ("updated", s.updated),
        ("sources", "\n             ".join(s.sources)),
    ]
    if s.dense_search:
        lines.insert(8, ("dense", _dense_search(s.dense_search)))
    for k, v in lines:
        click.echo(f"{k:<12} {v}")


def _dense_search(d: dict[str, Any]) -> str:
    """One line on how a dense query runs (``IndexStats.dense_search``)."""
    if d["method"] == "exact":
        return f"exact scan (an IVF index is used from {d['ann_threshold']:,} chunks on)"
    ann = d.get("ann") or {}
    if ann.get("file") is None:
        return "IVF, not built yet (the next update or the first query builds it)"
    fresh = "current" if ann["current"] else f"{ann['delta_rows']:,} rows served as a delta"
    return (
        f"IVF: {ann['lists']:,} lists, nprobe {ann['nprobe']}; {ann['file']} ({ann['how']}, "
        f"{fresh}, {_size(ann['bytes'])}); drift {ann['drift']:.1%} since training on "
        f"{ann['trained_rows']:,} rows"
    )


@index_group.command("check")
@click.argument("name")
@json_option
def check_command(name: str, as_json: bool) -> None:
    """Check index NAME: row counts, segment sizes and checksums, SQLite integrity, model
    fingerprint. Exit status 1 when something is wrong."""
    r = check_index(name)
    if as_json:
        echo_json(r.to_dict())
    else:
        ok_segments = sum(s.status == "ok" for s in r.segments)
        lines = [
            ("index", f"{r.name} ({r.folder})"),
            ("sqlite", r.integrity or "-"),
            ("schema", r.schema_version or "-"),
            ("model", f"{r.model or '-'} (fingerprint {r.fingerprint or '-'})"),
            ("files", r.documents),
            ("chunks", r.chunks),
            ("segments", f"{ok_segments} of {len(r.segments)} match their size and checksum"),
        ]
        for k, v in lines:
            click.echo(f"{k:<12} {v}")
        for note in r.notes:
            click.echo(f"note: {note}")
        for problem in r.problems:
            click.echo(f"PROBLEM: {problem}")
        click.echo("OK" if r.ok else f"{len(r.problems)} problem(s) found.")
    if not r.ok:
        raise SystemExit(1)


@index_group.command("drop")
@click.argument("name")
def drop_command(name: str) -> None:
    """Delete index NAME, damaged or not (your source files are not touched)."""
    drop_index(name)
    click.echo(f"Dropped index {name!r}.")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


COMMANDS = [index_group]
