"""``embedlab ask INDEX "QUESTION"``: an answer from a chat model, grounded in the index's
chunks, with its sources, the sentences nothing supports, and every stage's time."""

from __future__ import annotations

import click

from embedlab.ask.pipeline import DoneEvent, TokenEvent, ask_stream, check_options
from embedlab.ask.registry import DEFAULT_CHAT, find_chat_spec, known_chat_names
from embedlab.ask.report import format_after_answer
from embedlab.cli.common import echo_json, json_option
from embedlab.errors import ChatStreamError, InputError, UnknownModelError
from embedlab.search.pipeline import MODES
from embedlab.search.retrieve import check_candidates
from embedlab.stores.quantized import QUANTIZATIONS


@click.command("ask")
@click.argument("index")
@click.argument("question")
@click.option(
    "--chat",
    "chat",
    default=DEFAULT_CHAT,
    show_default=True,
    help="Chat model: local (offline SmolLM2-135M), ollama:<model> or openai:<model>.",
)
@click.option("--mode", type=click.Choice(list(MODES)), default="dense", show_default=True)
@click.option("-k", "k", default=5, show_default=True, help="How many chunks to retrieve.")
@click.option("--rerank", default=None, help="Cross-encoder that rescores the candidates.")
@click.option("--dims", type=int, default=None, help="Matryoshka first stage on D dims.")
@click.option("--quantize", type=click.Choice(list(QUANTIZATIONS)), default=None)
@click.option(
    "--candidates",
    type=int,
    default=None,
    metavar="N",
    help="Rescoring depth: rows the --dims/--quantize first stage passes to the float "
    "vectors (at least k; default: the stage's own, see 'embedlab search --help').",
)
@click.option(
    "--context-tokens",
    type=int,
    default=None,
    help="Tokens the sources may take (default: the model's window minus the rest).",
)
@click.option(
    "--max-tokens", default=256, show_default=True, help="Room for the answer, in tokens."
)
@click.option("--stream/--no-stream", default=True, show_default=True, help="Print tokens live.")
@json_option
def ask_command(
    index: str,
    question: str,
    chat: str,
    mode: str,
    k: int,
    rerank: str | None,
    dims: int | None,
    quantize: str | None,
    candidates: int | None,
    context_tokens: int | None,
    max_tokens: int,
    stream: bool,
    as_json: bool,
) -> None:
    """Answer QUESTION from the chunks of index INDEX, citing them as [1], [2]."""
    check_options(question, mode, k, max_tokens)
    if context_tokens is not None and context_tokens < 1:
        raise InputError(f"--context-tokens must be at least 1, got {context_tokens}.")
    if dims is not None and dims < 1:
        raise InputError(f"--dims must be at least 1, got {dims}.")
    check_candidates(candidates, k, dims, quantize)
    if find_chat_spec(chat) is None:
        raise UnknownModelError(
            f"Unknown chat model {chat!r}. Known chat models: {', '.join(known_chat_names())}."
        )
    from embedlab.stores import open_index

    open_index(index)  # a missing index is reported before any model loads
    live = stream and not as_json
    result = None
    for event in ask_stream(
        index, question, chat=chat, mode=mode, k=k, rerank=rerank, dims=dims,
        quantize=quantize, candidates=candidates, context_tokens=context_tokens,
        max_tokens=max_tokens,
    ):  # fmt: skip
        if isinstance(event, TokenEvent) and live:
            click.echo(event.text, nl=False)
        elif isinstance(event, DoneEvent):
            result = event.result
    if result is None:  # ask_stream always ends with a DoneEvent
        return
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo("" if live else result.answer)
        click.echo("\n" + format_after_answer(result))
    if result.error:
        raise ChatStreamError(result.error, partial=result.answer, result=result)


COMMANDS: list[click.Command] = [ask_command]
