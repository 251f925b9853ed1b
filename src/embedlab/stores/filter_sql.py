"""A :mod:`~embedlab.stores.filters` expression answered by SQLite over the chunk table.

The embedded store keeps a chunk's record as columns and a JSON text: ``documents.path``
(``source``), ``chunks.title`` and ``chunks.metadata`` (a JSON object whose keys override
the two, as ``{"source", "title", **metadata}`` does). :func:`to_sql` turns a filter into
one SQL expression over ``c`` (chunks) and ``d`` (documents) with ``json_type`` and
``json_extract``, so SQLite selects the rows without Python reading any metadata.

Values compare as text, as :meth:`Filter.matches` does (``str(value) == wanted``): a JSON
string compares as it is, an integer through ``CAST(... AS TEXT)``, ``true``/``false``/
``null`` as Python's ``True``/``False``/``None``. Where SQLite's text differs from Python's
``str`` (a real number: ``1e+20`` against ``1.0e+20``; an array or object) the expression is
``NULL`` (unknown), and only those rows are read and checked in Python. SQL's three-valued
AND/OR keep that exact: a row is selected when the whole expression is true, checked
when it is unknown.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import numpy as np

from embedlab.errors import InputError
from embedlab.stores.filters import And, Eq, Filter, In, Or

#: record fields that are columns (used when the metadata does not carry the key itself).
COLUMNS = {"source": "d.path", "title": "c.title"}
_FROM = "FROM chunks c JOIN documents d ON d.id = c.doc_id"


def json_path(field: str) -> str | None:
    """The JSON path of a top-level key (``None`` for a key SQLite's path cannot quote)."""
    if '"' in field or "\\" in field:
        return None
    return f'$."{field}"'


def _eq(field: str, value: str, params: list[Any]) -> str:
    """``str(record[field]) == value`` as SQL: 1, 0, or NULL where SQL cannot tell."""
    path = json_path(field)
    if path is None:
        return "NULL"
    t = "json_type(c.metadata, ?)"
    absent = "0"
    if field in COLUMNS:
        absent = f"({COLUMNS[field]} = ?)"
    sql = (
        f"(CASE {t} WHEN 'text' THEN json_extract(c.metadata, ?) = ? "
        f"WHEN 'integer' THEN CAST(json_extract(c.metadata, ?) AS TEXT) = ? "
        f"WHEN 'true' THEN ? = 'True' WHEN 'false' THEN ? = 'False' "
        f"WHEN 'null' THEN ? = 'None' WHEN 'real' THEN NULL WHEN 'array' THEN NULL "
        f"WHEN 'object' THEN NULL ELSE {absent} END)"
    )
    params += [path, path, value, path, value, value, value, value]
    if field in COLUMNS:
        params.append(value)
    return sql


def to_sql(expr: Filter) -> tuple[str, list[Any]]:
    """One SQL expression (over ``c``, ``d``) and its parameters for ``expr``."""
    params: list[Any] = []

    def walk(e: Filter) -> str:
        if isinstance(e, Eq):
            return _eq(e.field, e.value, params)
        if isinstance(e, In):
            if not e.values:
                return "0"
            return "(" + " OR ".join(_eq(e.field, v, params) for v in e.values) + ")"
        if isinstance(e, And):
            return "(" + " AND ".join(walk(i) for i in e.items) + ")" if e.items else "1"
        if isinstance(e, Or):
            return "(" + " OR ".join(walk(i) for i in e.items) + ")" if e.items else "0"
        raise InputError(f"Not a filter expression: {e!r}.")

    return walk(expr), params


def check_fields(conn: sqlite3.Connection, expr: Filter) -> None:
    """Refuse a field no chunk has, listing those that chunks do have (as
    :func:`embedlab.stores.filters.matching_rows` does).

    :raises InputError: naming the field and the known fields.
    """
    if conn.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is None:
        known: set[str] = set()
    else:
        known = set(COLUMNS)
    for name in sorted(expr.fields()):
        if name in known:
            continue
        path = json_path(name)
        if (
            path is not None
            and conn.execute(
                "SELECT 1 FROM chunks WHERE json_type(metadata, ?) IS NOT NULL LIMIT 1", (path,)
            ).fetchone()
        ):
            known.add(name)
            continue
        if known:  # the error path only: every key of every row
            keys = conn.execute("SELECT DISTINCT j.key FROM chunks, json_each(chunks.metadata) j")
            known |= {str(k) for (k,) in keys}
        if name in known:  # a key the JSON path cannot name
            continue
        listed = ", ".join(sorted(known)) or "none"
        raise InputError(f"No chunk has a field {name!r} to filter on. Fields: {listed}.")


def matching_ids(conn: sqlite3.Connection, expr: Filter) -> np.ndarray:
    """Chunk ids (int64, ascending) whose record ``expr`` matches, selected by SQLite; rows
    where SQL cannot decide (see the module's note) are checked in Python.

    :raises InputError: when the expression reads a field no chunk has.
    """
    check_fields(conn, expr)
    where, params = to_sql(expr)
    rows = conn.execute(
        f"SELECT c.id, m FROM (SELECT c.id, {where} AS m {_FROM}) AS c WHERE m IS NOT 0",
        params,
    ).fetchall()
    sure = [i for i, m in rows if m is not None]
    unsure = [i for i, m in rows if m is None]
    for start in range(0, len(unsure), 900):
        part = unsure[start : start + 900]
        marks = ",".join("?" * len(part))
        for cid, path, title, meta in conn.execute(
            f"SELECT c.id, d.path, c.title, c.metadata {_FROM} WHERE c.id IN ({marks})", part
        ):
            if expr.matches({"source": path, "title": title, **json.loads(meta)}):
                sure.append(cid)
    return np.sort(np.asarray(sure, dtype=np.int64))


__all__ = ["COLUMNS", "check_fields", "json_path", "matching_ids", "to_sql"]
