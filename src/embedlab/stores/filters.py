"""Metadata filters: a small typed expression every engine translates.

A chunk's filterable record is ``{"source", "title", **metadata}`` (what
:meth:`embedlab.stores.base.Index.metadata` gives). Values compare as text, as the CLI's
``--filter field=value`` always has:

>>> expr = And((Eq("lang", "en"), In("part", ("1", "2"))))
>>> expr.matches({"lang": "en", "part": 2})
True
>>> parse_filter(["lang=en", "part=1"])          # the CLI's strings: all must hold
And(items=(Eq(field='lang', value='en'), Eq(field='part', value='1')))

The embedded store evaluates :meth:`Filter.matches` over its rows once per generation and
filter (expressions are frozen and hashable, so they key a cache); a server engine walks the
tree (:class:`Eq`, :class:`In`, :class:`And`, :class:`Or`) into its own expression language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedlab.errors import InputError


@dataclass(frozen=True)
class Eq:
    """``field = value`` (compared as text; a record without the field does not match)."""

    field: str
    value: str

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` satisfies the expression."""
        return self.field in record and str(record[self.field]) == self.value

    def fields(self) -> set[str]:
        """The field names the expression reads."""
        return {self.field}


@dataclass(frozen=True)
class In:
    """``field in [values]`` (compared as text)."""

    field: str
    values: tuple[str, ...]

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` satisfies the expression."""
        return self.field in record and str(record[self.field]) in self.values

    def fields(self) -> set[str]:
        """The field names the expression reads."""
        return {self.field}


@dataclass(frozen=True)
class And:
    """Every item holds (an empty ``And`` holds for every record)."""

    items: tuple[Filter, ...]

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` satisfies the expression."""
        return all(item.matches(record) for item in self.items)

    def fields(self) -> set[str]:
        """The field names the expression reads."""
        return set().union(*(item.fields() for item in self.items))


@dataclass(frozen=True)
class Or:
    """At least one item holds (an empty ``Or`` holds for none)."""

    items: tuple[Filter, ...]

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` satisfies the expression."""
        return any(item.matches(record) for item in self.items)

    def fields(self) -> set[str]:
        """The field names the expression reads."""
        return set().union(*(item.fields() for item in self.items))


Filter = Eq | In | And | Or
"""A filter expression."""


def parse_filter(items: Sequence[str] | Mapping[str, str] | Filter | None) -> Filter | None:
    """The CLI's ``["field=value", ...]`` (or a ``{field: value}`` dict) as one expression:
    one :class:`Eq` per item, all of which must hold (a field given twice keeps its last
    value, as the old dict did). An expression is returned as it is; nothing gives ``None``.

    :raises InputError: for an item without ``=`` or with an empty field name.
    """
    if items is None or isinstance(items, Eq | In | And | Or):
        return items
    pairs = filter_pairs(items)
    if not pairs:
        return None
    eqs = tuple(Eq(name, value) for name, value in pairs.items())
    return eqs[0] if len(eqs) == 1 else And(eqs)


def filter_pairs(items: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    """``["field=value", ...]`` (or a dict) -> ``{field: value}``.

    :raises InputError: for an item without ``=`` or with an empty field name.
    """
    if isinstance(items, Mapping):
        return {str(k): str(v) for k, v in items.items()}
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(
                f"Malformed filter {item!r}: write field=value, e.g. --filter source=notes.md."
            )
        out[name.strip()] = value.strip()
    return out


def matching_rows(records: Iterable[Mapping[str, Any]], expr: Filter | None) -> np.ndarray | None:
    """Row positions (int64, ascending) of the records ``expr`` matches; ``None`` without one.

    :raises InputError: when the expression reads a field no record has (lists those that do).
    """
    if expr is None:
        return None
    records = list(records)
    known = set().union(*(r.keys() for r in records)) if records else set()
    for name in sorted(expr.fields()):
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise InputError(f"No chunk has a field {name!r} to filter on. Fields: {listed}.")
    keep = [i for i, r in enumerate(records) if expr.matches(r)]
    return np.asarray(keep, dtype=np.int64)


__all__ = ["And", "Eq", "Filter", "In", "Or", "filter_pairs", "matching_rows", "parse_filter"]
