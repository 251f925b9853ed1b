"""The Milvus client side of embedlab's Milvus store: store URIs, one connection per
server, calls that turn a server's failures into embedlab's errors, collection properties,
filter expressions, stable chunk ids and the vector forms the collection holds (unit,
Matryoshka prefix, sign bits). :mod:`embedlab.stores.milvus` is the index built on them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import threading
from typing import Any
from urllib.parse import urlparse

import numpy as np

from embedlab.errors import (
    IndexNotFoundError,
    InputError,
    MilvusUnreachableError,
    NotAnIndexError,
    StoreError,
)
from embedlab.stores.filters import And, Eq, Filter, In, Or
from embedlab.vectors import normalize

#: URI scheme of a Milvus store.
SCHEME = "milvus://"
#: seconds to wait for a Milvus server to answer the first call.
CONNECT_TIMEOUT = 5.0
#: property prefix (every key embedlab writes into a collection's properties).
P = "embedlab."
#: the Matryoshka prefix kept in its own field (the Search page's 128; less for small models).
PREFIX_DIMS = 128
#: float-vector index types offered (IVF_FLAT: exact with nprobe = nlist, ANN below it).
INDEX_TYPES = ("IVF_FLAT", "FLAT", "HNSW")
#: the longest text a VARCHAR field holds in Milvus.
MAX_VARCHAR = 65_535
#: rows per query page (iterators, fetches by id).
PAGE = 1000
#: from this many rows on the dense stage is approximate by default (as the embedded store).
ANN_THRESHOLD = 50_000
#: fraction of the IVF lists probed by the approximate stage.
ANN_PROBE_SHARE = 0.375


def is_milvus(store: str | None) -> bool:
    """Whether a ``--store`` value names a Milvus server."""
    return bool(store) and str(store).startswith(SCHEME)


def parse_uri(store: str) -> tuple[str, str]:
    """``milvus://HOST:PORT`` -> (the store URI as given, the client's ``http://HOST:PORT``).

    :raises InputError: for a malformed URI.
    """
    if not is_milvus(store):
        raise InputError(f"Unknown store {store!r}: use 'embedded' or milvus://HOST:PORT.")
    parsed = urlparse("http://" + store[len(SCHEME) :])
    if not parsed.hostname:
        raise InputError(f"Store {store!r} names no host: write milvus://HOST:PORT.")
    try:
        port = parsed.port or 19530
    except ValueError:
        raise InputError(f"Store {store!r} has a bad port: write milvus://HOST:PORT.") from None
    return f"{SCHEME}{parsed.hostname}:{port}", f"http://{parsed.hostname}:{port}"


def collection_name(name: str) -> str:
    """The Milvus collection of index ``name``."""
    if not name or not name.strip():
        raise InputError("An index needs a name.")
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return out if re.match(r"[A-Za-z_]", out) else f"_{out}"


class _QuietIterator(logging.Filter):
    """Drops pymilvus' warning that Milvus Lite gives query iterators no MVCC timestamp
    (the iterator then uses the client's clock; the rows are the same)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "mvccTs" not in record.getMessage()


logging.getLogger("pymilvus.client.iterator.query_iterator").addFilter(_QuietIterator())
_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def connect(store: str) -> Any:
    """A ``MilvusClient`` for ``store`` (one per URI and process).

    :raises MilvusUnreachableError: naming the URI and what came back.
    """
    uri, http = parse_uri(store)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(uri)
    if client is not None:
        return client
    try:
        from pymilvus import MilvusClient
    except ImportError:  # pragma: no cover - the scale extra is missing
        raise StoreError("Milvus stores need pymilvus: pip install 'embedlab[scale]'.") from None
    try:
        client = MilvusClient(uri=http, timeout=CONNECT_TIMEOUT)
        client.list_collections(timeout=CONNECT_TIMEOUT)
    except Exception as exc:  # pymilvus raises MilvusException, grpc errors, OSError...
        raise MilvusUnreachableError(
            f"Milvus at {uri} is unreachable ({_what(exc)}). Start it (docs/scale.md: "
            f"'milvus-lite server --data-dir DIR --host 127.0.0.1 --port PORT'), or check "
            "the host and port."
        ) from None
    with _CLIENTS_LOCK:
        _CLIENTS[uri] = client
    return client


def forget_client(store: str) -> None:
    """Close and forget the client of ``store`` (after its server stopped)."""
    uri, _ = parse_uri(store)
    with _CLIENTS_LOCK:
        client = _CLIENTS.pop(uri, None)
    if client is not None:
        with contextlib.suppress(Exception):  # closing a dead connection may fail any way
            client.close()


def _what(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first[:300]}"


def call(store: str, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one client call; a failure becomes a :class:`StoreError` naming the store."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        if isinstance(exc, StoreError | InputError):
            raise
        text = str(exc)
        if "UNAVAILABLE" in text or "connect" in text.lower() and "fail" in text.lower():
            forget_client(store)
            raise MilvusUnreachableError(
                f"Milvus at {store} stopped answering during {what} ({_what(exc)})."
            ) from None
        raise StoreError(f"Milvus at {store} refused {what} ({_what(exc)}).") from None


# --- properties ----------------------------------------------------------------------


def read_properties(client: Any, store: str, coll: str) -> dict[str, Any]:
    """The ``embedlab.*`` properties of a collection, JSON-decoded (without the prefix)."""
    desc = call(store, "describe_collection", client.describe_collection, coll)
    props = desc.get("properties") or {}
    out: dict[str, Any] = {}
    for key, value in props.items():
        if key.startswith(P):
            try:
                out[key[len(P) :]] = json.loads(value)
            except (TypeError, ValueError):
                out[key[len(P) :]] = value
    return out


def write_properties(client: Any, store: str, coll: str, values: dict[str, Any]) -> None:
    """Set ``embedlab.*`` properties (JSON-encoded)."""
    props = {P + k: json.dumps(v, ensure_ascii=False) for k, v in values.items()}
    call(store, "alter_collection_properties", client.alter_collection_properties, coll, props)


def open_props(store: str, name: str, *, committed: bool = True) -> tuple[Any, str, dict[str, Any]]:
    """Client, collection and properties of index ``name`` in ``store``.

    :raises IndexNotFoundError: when the collection does not exist (or, with
        ``committed``, a create was interrupted before its first commit).
    :raises NotAnIndexError: when the collection was not made by embedlab.
    """
    client = connect(store)
    coll = collection_name(name)
    if not call(store, "has_collection", client.has_collection, coll):
        raise IndexNotFoundError(
            f"No index named {name!r} in Milvus at {store}: create it with "
            f"'embedlab index create {name} PATH... --store {store}'."
        )
    props = read_properties(client, store, coll)
    if "fingerprint" not in props:
        raise NotAnIndexError(
            f"Collection {coll!r} in Milvus at {store} is not an embedlab index (its "
            "properties carry no embedlab.fingerprint): pick another index name, or drop "
            "that collection with a Milvus client if it is yours to drop."
        )
    if str(props.get("name", name)) != name:
        raise IndexNotFoundError(
            f"No index named {name!r} in Milvus at {store}: its collection name {coll!r} "
            f"holds index {props.get('name')!r} (names that differ only in characters Milvus "
            "refuses share a collection): pick another name."
        )
    if committed and not props.get("committed"):
        raise IndexNotFoundError(
            f"Index {name!r} in Milvus at {store} was never committed (its create was "
            f"interrupted): finish it with 'embedlab index update {name}', or drop it."
        )
    return client, coll, props


# --- filters -------------------------------------------------------------------------


def _lit(value: str) -> str:
    return json.dumps(str(value), ensure_ascii=False)


def to_expression(expr: Filter | None) -> str:
    """A filter tree as a Milvus boolean expression over the ``fields`` JSON column.

    >>> to_expression(And((Eq("lang", "en"), In("part", ("1", "2")))))
    '(fields["lang"] == "en" and (fields["part"] == "1" or fields["part"] == "2"))'

    ``In`` is written as a chain of ``==`` (Milvus Lite refuses ``in`` on a JSON path);
    an empty ``And`` holds for every row, an empty ``Or`` for none.
    """
    if expr is None:
        return ""
    if isinstance(expr, Eq):
        return f"fields[{_lit(expr.field)}] == {_lit(expr.value)}"
    if isinstance(expr, In):
        if not expr.values:
            return "id < 0"  # never true: ids are not negative
        parts = [f"fields[{_lit(expr.field)}] == {_lit(v)}" for v in expr.values]
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"
    if isinstance(expr, And):
        if not expr.items:
            return "id >= 0"
        inner = [to_expression(i) for i in expr.items]
        return inner[0] if len(inner) == 1 else "(" + " and ".join(inner) + ")"
    if isinstance(expr, Or):
        if not expr.items:
            return "id < 0"
        inner = [to_expression(i) for i in expr.items]
        return inner[0] if len(inner) == 1 else "(" + " or ".join(inner) + ")"
    raise InputError(f"Unknown filter expression {expr!r}.")


def filter_record(source: str, title: str, metadata: dict[str, Any]) -> dict[str, str]:
    """The row's filterable record as text (what ``Filter.matches`` compares)."""
    record = {"source": source, "title": title, **metadata}
    return {str(k): str(v) for k, v in record.items()}


# --- ids -----------------------------------------------------------------------------


def chunk_id(path: str, record: int, seq: int, text_digest: str) -> int:
    """A stable positive int64 id for a chunk (upserting it again hits the same row)."""
    h = hashlib.blake2b(f"{path}\0{record}\0{seq}\0{text_digest}".encode(), digest_size=8)
    return int.from_bytes(h.digest(), "big") & 0x7FFF_FFFF_FFFF_FFFF


def doc_id(path: str) -> int:
    """A stable id for a source file."""
    h = hashlib.blake2b(path.encode(), digest_size=8)
    return int.from_bytes(h.digest(), "big") & 0x7FFF_FFFF_FFFF_FFFF


def prefix_of(vectors: np.ndarray, dims: int) -> np.ndarray:
    """The first ``dims`` components, renormalised (zero rows stay zero)."""
    return normalize(np.array(vectors[:, :dims], dtype=np.float32), inplace=True)


def sign_vector(vectors: np.ndarray) -> np.ndarray:
    """+1 where a component is > 0, else -1 (the binary code as a float vector)."""
    return np.where(np.asarray(vectors) > 0, 1.0, -1.0).astype(np.float32)


def unit(vectors: np.ndarray) -> np.ndarray:
    """The rows (or the one vector, as a row) at unit length, as float32 (zero rows stay zero)."""
    return normalize(np.array(np.atleast_2d(vectors), dtype=np.float32), inplace=True)
