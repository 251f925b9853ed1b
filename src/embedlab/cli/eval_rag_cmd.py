"""``embedlab eval rag DATASET --index NAME``: where each query's relevant chunks were lost on
the way to the chat model's prompt (retrievers, fusion, rerank, budget), and context
recall@budget for several k and context sizes. Attached to the ``eval`` group."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from embedlab.ask.registry import DEFAULT_CHAT
from embedlab.cli.common import echo_json, json_option
from embedlab.cli.index_cmd import ray_options
from embedlab.search.pipeline import MODES
from embedlab.search.rerank import RERANK_CANDIDATES


def _ints(value: str, what: str) -> list[int | None]:
    out: list[int | None] = []
    for v in value.split(","):
        v = v.strip()
        if not v:
            continue
        if v in ("window", "none"):
            out.append(None)
            continue
        if not v.isdigit() or int(v) < 1:
            raise click.BadParameter(f"{what}: expected positive whole numbers, got {v!r}")
        out.append(int(v))
    return out


@click.command("rag")
@click.argument("dataset", type=click.Path(exists=True, path_type=Path))
@click.option("--index", "index_name", required=True, help="The index built from DATASET's corpus.")
@click.option("--chat", default=DEFAULT_CHAT, show_default=True, help="Chat model (its window).")
@click.option("--mode", type=click.Choice(list(MODES)), default="hybrid", show_default=True)
@click.option("-k", "k", default=5, show_default=True, help="Chunks retrieved per question.")
@click.option("--rerank", default=None, help="Cross-encoder that rescores the candidates.")
@click.option("--rerank-candidates", default=RERANK_CANDIDATES, show_default=True)
@click.option("--context-tokens", type=int, default=None, help="Budget for sources (tokens).")
@click.option("--max-tokens", default=256, show_default=True, help="Room for the answer.")
@click.option("--ks", default="1,3,5,10", show_default=True, help="k values of the recall grid.")
@click.option(
    "--contexts",
    default="128,256,512,window",
    show_default=True,
    help="Context sizes (tokens) of the recall grid; 'window' = the model's own.",
)
@click.option("--generate", is_flag=True, help="Also ask the chat model; count cited relevance.")
@click.option("--worst", default=20, show_default=True, help="How many worst queries to list.")
@ray_options
@json_option
def rag_cmd(
    dataset: Path,
    index_name: str,
    chat: str,
    mode: str,
    k: int,
    rerank: str | None,
    rerank_candidates: int,
    context_tokens: int | None,
    max_tokens: int,
    ks: str,
    contexts: str,
    generate: bool,
    worst: int,
    ray_address: str | None,
    ray_batch: int,
    ray_actors: int,
    as_json: bool,
) -> None:
    """Diagnose retrieval for RAG on DATASET (BEIR layout with qrels) over index NAME."""
    from embedlab.ask.registry import load_chat
    from embedlab.evaluate.datasets import load_dataset
    from embedlab.evaluate.rag import diagnose_rag, format_diagnosis
    from embedlab.models.ray_pool import on_ray
    from embedlab.stores import open_index

    k_list = [x for x in _ints(ks, "--ks") if x is not None]
    ctx_list = _ints(contexts, "--contexts")
    index = open_index(index_name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_dataset(dataset)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    result = diagnose_rag(
        ds, index, load_chat(chat), mode=mode, k=k, rerank=rerank,
        rerank_candidates=rerank_candidates, context_tokens=context_tokens,
        max_tokens=max_tokens, ks=k_list or [k], contexts=ctx_list or [None],
        generate=generate, progress=None if as_json else lambda m: click.echo(m, err=True),
        encoder=None if ray_address is None else on_ray(
            index.model_name, ray_address, batch_size=ray_batch, actors=ray_actors),
    )  # fmt: skip
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(format_diagnosis(result, worst=worst))
