"""Plugins: backends other packages add through Python entry points, as llm and datasette do.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."embedlab.models"]
    toy = "embedlab_toy:load_toy"        # load_model("toy:anything") -> load_toy("anything")

embedlab's own backends sit in the same table (the ``builtin`` mapping each registry
passes, also declared as entry points in embedlab's ``pyproject.toml``), so a third party's
backend is found and loaded exactly as a built-in one. A built-in name is never replaced by
another package's entry point.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points

#: entry point groups embedlab reads.
MODELS_GROUP = "embedlab.models"
CHAT_GROUP = "embedlab.chat"


def entry_point_table(
    group: str, builtin: Mapping[str, str] | None = None
) -> dict[str, EntryPoint]:
    """Name (lower case) -> entry point: ``builtin`` (``name -> "module:attr"``) first, then
    every installed distribution's entry points in ``group``; nothing is imported.

    Read afresh on each call (a package installed meanwhile is seen); callers cache.
    """
    table = {n.lower(): EntryPoint(n, value, group) for n, value in (builtin or {}).items()}
    for ep in entry_points(group=group):
        table.setdefault(ep.name.lower(), ep)
    return table


def load_object(path: str) -> object:
    """The object a ``"module:attr"`` path names (imported now)."""
    return EntryPoint("", path, "").load()


__all__ = ["CHAT_GROUP", "MODELS_GROUP", "entry_point_table", "load_object"]
