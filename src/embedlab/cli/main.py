"""The ``embedlab`` command: a click group whose sub-commands live one module each.

Commands hold no logic: they parse options, call the layers, and print. Any
:class:`~embedlab.errors.EmbedlabError` becomes a one-line message and exit status 1. Any
other error (a bug, or a library failing in a way embedlab did not foresee) becomes one line
too, naming the command and the error, with the traceback saved to
``$EMBEDLAB_HOME/logs/last-error.log``; ``embedlab --debug ...`` (or ``EMBEDLAB_DEBUG=1``)
lets it through with its traceback instead. Ctrl-C stops with a short line and status 130.
click's own usage errors are left as click prints them (status 2).
"""

from __future__ import annotations

import importlib
import traceback
from pathlib import Path
from types import TracebackType
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
    "ask_cmd",
)


#: where the traceback of the last unexpected error is written (under embedlab's home).
ERROR_LOG = Path("logs") / "last-error.log"
#: exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def _failed_command(tb: TracebackType | None, default: str) -> str:
    """The command path (``embedlab train embedder``) of the innermost click context in ``tb``."""
    path = default
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if isinstance(owner, click.Context):
            path = owner.command_path
        tb = tb.tb_next
    return path


def _save_traceback(exc: BaseException) -> Path | None:
    """Write ``exc``'s traceback to :data:`ERROR_LOG`; ``None`` when home is not writable."""
    from embedlab.settings import home

    try:
        path = home() / ERROR_LOG
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    except OSError:
        return None
    return path


def unexpected_error_line(exc: BaseException, command: str, log: Path | None) -> str:
    """One line for an error embedlab did not raise on purpose: what failed and where to look."""
    first = (str(exc).strip().splitlines() or [""])[0]
    if len(first) > 300:
        first = first[:299] + "…"
    detail = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    where = f"traceback in {log}; " if log is not None else ""
    return (
        f"{command} failed unexpectedly ({detail}). {where}run 'embedlab --debug ...' "
        "(or set EMBEDLAB_DEBUG=1) to print the traceback, and report it if it is a bug."
    )


class EmbedlabGroup(click.Group):
    """The top-level group: every error becomes one line and a non-zero exit status.

    - :class:`EmbedlabError`: its message, status 1;
    - click's usage errors and exits: unchanged;
    - Ctrl-C: "Interrupted.", status 130;
    - anything else: :func:`unexpected_error_line`, status 1, the traceback saved to the log;
      with ``--debug`` it is raised as is (Python prints the traceback).
    """

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except EmbedlabError as exc:
            if debug:
                raise
            raise click.ClickException(str(exc)) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            if debug:
                raise
            click.echo("Interrupted.", err=True)
            ctx.exit(INTERRUPTED)
        except Exception as exc:
            if debug:
                raise
            command = _failed_command(exc.__traceback__, ctx.command_path)
            message = unexpected_error_line(exc, command, _save_traceback(exc))
            raise click.ClickException(message) from exc


@click.group(cls=EmbedlabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="embedlab")
@click.option(
    "--debug",
    is_flag=True,
    envvar="EMBEDLAB_DEBUG",
    help="Show the full traceback of an unexpected error (also EMBEDLAB_DEBUG=1).",
)
def cli(debug: bool) -> None:
    """embedlab: a local-first lab for text embeddings.

    Inspect vectors, compare texts and models, search your documents, measure retrieval,
    map a corpus and train models, all on this machine.
    """


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(f"embedlab.cli.{_name}").COMMANDS:
        cli.add_command(_command)
