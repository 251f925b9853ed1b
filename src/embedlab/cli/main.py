"""The ``embedlab`` command: a click group whose sub-commands live one module each.

Commands hold no logic: they parse options, call the layers, and print. Any
:class:`~embedlab.errors.EmbedlabError` becomes a one-line message and exit status 1.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from embedlab.errors import EmbedlabError

#: modules under ``embedlab.cli`` that each expose ``COMMANDS: list[click.Command]``.
COMMAND_MODULES: tuple[str, ...] = (
    "models_cmd",
    "demo_cmd",
    "index_cmd",
    "explore_cmd",
    "serve_cmd",
    "map_cmd",
    "train_cmd",
    "eval_cmd",
    "search_cmd",
)


class EmbedlabGroup(click.Group):
    """A group that turns library errors into short messages instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EmbedlabError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=EmbedlabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="embedlab")
def cli() -> None:
    """embedlab: a local-first lab for text embeddings.

    Inspect vectors, compare texts and models, search your documents, measure retrieval,
    map a corpus and train models, all on this machine.
    """


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(f"embedlab.cli.{_name}").COMMANDS:
        cli.add_command(_command)
