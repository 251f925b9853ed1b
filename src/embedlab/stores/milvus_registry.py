"""Where embedlab's Milvus indexes live. A registry (``home()/stores.json``: index name ->
store URI) lets every command that opens an index by name (search, ask, eval, the web pages)
find it without ``--store``; :func:`resolve` picks an index's store, :func:`milvus_indexes`
lists the indexes of one store and :func:`survey_milvus` those of every known store.
:mod:`embedlab.stores.milvus_writer` records an index here when it creates one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from embedlab.errors import InputError, StoreError
from embedlab.settings import home
from embedlab.stores.milvus import MilvusIndex
from embedlab.stores.milvus_client import call, connect, parse_uri, read_properties


def _registry_path() -> Path:
    return home() / "stores.json"


def registry() -> dict[str, str]:
    """Index name -> store URI of the indexes created in a server store from this home."""
    path = _registry_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save_registry(data: dict[str, str]) -> None:
    path = _registry_path()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def remember(name: str, store: str) -> None:
    """Record that index ``name`` lives in ``store``."""
    data = registry()
    data[name] = parse_uri(store)[0]
    _save_registry(data)


def forget(name: str) -> None:
    data = registry()
    if data.pop(name, None) is not None:
        _save_registry(data)


def milvus_indexes(store: str) -> list[tuple[str, str]]:
    """(index name, collection) of every embedlab index in ``store`` (committed or not)."""
    store, _ = parse_uri(store)
    client = connect(store)
    out = []
    for coll in sorted(call(store, "list_collections", client.list_collections)):
        props = read_properties(client, store, coll)
        if "fingerprint" in props:
            out.append((str(props.get("name", coll)), coll))
    return out


def find_store(name: str) -> str | None:
    """The store URI the registry records for index ``name``."""
    return registry().get(name)


def known_stores(default: str | None = None) -> list[str]:
    """The server stores to survey: the registry's and the default one."""
    uris = set(registry().values())
    if default and default.startswith("milvus://"):
        uris.add(parse_uri(default)[0])
    return sorted(uris)


def resolve(name: str, store: str | None, embedded: bool, *, new: bool = False) -> str | None:
    """Where index ``name`` lives: the Milvus URI, or ``None`` for the embedded store.

    ``store`` given (``--store``): that one. Else an existing embedded index; else the
    store the registry recorded at its creation; else the ``store`` setting
    (``EMBEDLAB_STORE``). With ``new`` (a create) only ``store`` and the setting count.
    """
    from embedlab.settings import get

    if store is not None and store != "":
        if store == "embedded":
            return None
        return parse_uri(store)[0]
    if not new:
        if embedded:
            return None
        found = find_store(name)
        if found is not None:
            return found
    default = get("store")
    if default in ("", "embedded"):
        return None
    return parse_uri(default)[0]


def survey_milvus() -> list[tuple[str, Any, str]]:
    """(name, stats or None, problem) of every embedlab index in the known Milvus stores;
    an unreachable store lists the indexes the registry records there, with the reason."""
    from embedlab.settings import get

    out: list[tuple[str, Any, str]] = []
    reg = registry()
    for store in known_stores(get("store")):
        try:
            found = milvus_indexes(store)
        except StoreError as exc:
            out += [(n, None, str(exc)) for n, s in sorted(reg.items()) if s == store]
            continue
        for name, _coll in found:
            try:
                out.append((name, MilvusIndex(name, store).stats(), ""))
            except (StoreError, InputError) as exc:
                out.append((name, None, str(exc)))
    return out


__all__ = [
    "find_store",
    "forget",
    "known_stores",
    "milvus_indexes",
    "registry",
    "remember",
    "resolve",
    "survey_milvus",
]
