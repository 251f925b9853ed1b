"""The collection of an embedlab index in Milvus: its schema, indexes and properties,
the richest the server takes. :mod:`embedlab.stores.milvus_writer` creates it through
:func:`create_collection` and writes its rows.

The fields: the chunk id (primary key), its text, source, title, position, metadata and the
fields filters read, its file's sha256, mtime, size and chunk count (what tells the writer
that a file is complete), the unit vector (IVF_FLAT, HNSW or FLAT, inner product) and, where
the server takes them, a Matryoshka prefix vector, the sign bits (a BINARY_VECTOR, else
+/-1 floats: Milvus Lite) and the sparse output of Milvus' BM25 function over the text
(tokenized as the embedded store tokenizes, with its k1 and b). An older server gets less:
without the BM25 function keyword search runs in this process; with one vector field only
(Milvus before 2.4) the prefix and binary stages run in this process too.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from embedlab.errors import StoreError
from embedlab.stores.milvus_client import MAX_VARCHAR, call

#: IVF lists of the float field (nprobe = nlist is exact search).
NLIST = 128
#: the BM25 parameters of the embedded store (stores/keyword.py).
BM25_K1, BM25_B = 1.5, 0.75


def _schema(client: Any, dims: int, prefix: int, bits: str, bm25: bool) -> tuple[Any, Any]:
    from pymilvus import DataType, Function, FunctionType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    text_args: dict[str, Any] = {}
    if bm25:
        from embedlab.stores.keyword import STOPWORDS

        # the embedded store's tokens: lower case, stop words out (stores/keyword.py)
        text_args = {
            "enable_analyzer": True,
            "analyzer_params": {
                "tokenizer": "standard",
                "filter": ["lowercase", {"type": "stop", "stop_words": sorted(STOPWORDS)}],
            },
        }
    s.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR, **text_args)
    s.add_field("source", DataType.VARCHAR, max_length=4096)
    s.add_field("title", DataType.VARCHAR, max_length=4096)
    s.add_field("position", DataType.JSON)
    s.add_field("metadata", DataType.JSON)
    s.add_field("fields", DataType.JSON)
    s.add_field("doc_hash", DataType.VARCHAR, max_length=64)
    s.add_field("doc_mtime", DataType.INT64)
    s.add_field("doc_size", DataType.INT64)
    s.add_field("doc_chunks", DataType.INT64)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dims)
    if prefix:
        s.add_field("prefix", DataType.FLOAT_VECTOR, dim=prefix)
    if bits == "binary":
        s.add_field("bits", DataType.BINARY_VECTOR, dim=dims)
    elif bits == "sign":
        s.add_field("bits", DataType.FLOAT_VECTOR, dim=dims)
    if bm25:
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["text"],
                output_field_names=["sparse"],
            )  # fmt: skip
        )
    return s, None


def _index_params(client: Any, index_type: str, prefix: int, bits: str, bm25: bool) -> Any:
    ip = client.prepare_index_params()
    params: dict[str, Any] = {}
    if index_type == "IVF_FLAT":
        params = {"nlist": NLIST}
    elif index_type == "HNSW":
        params = {"M": 16, "efConstruction": 200}
    ip.add_index("vector", index_type=index_type, metric_type="IP", params=params)
    if prefix:
        ip.add_index("prefix", index_type="FLAT", metric_type="IP")
    if bits == "binary":
        ip.add_index("bits", index_type="BIN_FLAT", metric_type="HAMMING")
    elif bits == "sign":
        ip.add_index("bits", index_type="FLAT", metric_type="IP")
    if bm25:
        ip.add_index(
            "sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
            params={"bm25_k1": BM25_K1, "bm25_b": BM25_B},
        )  # fmt: skip
    return ip


def _refused(exc: BaseException, *words: str) -> bool:
    text = str(exc).lower()
    return any(w.lower() in text for w in words)


def create_collection(
    client: Any, store: str, coll: str, dims: int, prefix: int, index_type: str,
    props: dict[str, Any], full_text: bool,
) -> tuple[int, str, bool]:  # fmt: skip
    """Make the collection with the richest schema the server takes, trying in turn: a
    BINARY_VECTOR field (else +/-1 floats: Milvus Lite), the BM25 function (else none:
    keyword search runs in this process), several vector fields (else the float field
    alone: Milvus before 2.4, whose prefix and binary stages then run in this process).
    Returns (prefix dims, bits kind, has BM25)."""

    wire = {f"embedlab.{k}": json.dumps(v, ensure_ascii=False) for k, v in props.items()}
    version = str(call(store, "get_server_version", client.get_server_version))
    # Milvus Lite has no BINARY_VECTOR: its +/-1 float field ranks by Hamming exactly
    bits_options = ["sign"] if version.lower().startswith("milvus_lite") else ["binary", "sign"]
    options = [
        (prefix, bits, bm25) for bm25 in ([True, False] if full_text else [False])
        for bits in bits_options
    ]  # fmt: skip
    options.append((0, "none", False))
    refusals: list[str] = []
    quiet = _QuietRefusal()  # pymilvus logs each refused try as an error: they are expected
    logging.getLogger("pymilvus.decorators").addFilter(quiet)
    try:
        return _try_schemas(client, store, coll, dims, index_type, wire, options, refusals, version)
    finally:
        logging.getLogger("pymilvus.decorators").removeFilter(quiet)


class _QuietRefusal(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "create_collection" not in record.getMessage()


def _try_schemas(
    client: Any, store: str, coll: str, dims: int, index_type: str, wire: dict[str, str],
    options: list[tuple[int, str, bool]], refusals: list[str], version: str,
) -> tuple[int, str, bool]:  # fmt: skip
    from pymilvus import MilvusException

    i = 0
    while i < len(options):
        pre, bits, bm25 = options[i]
        schema, _ = _schema(client, dims, pre, bits, bm25)
        ip = _index_params(client, index_type, pre, bits, bm25)
        try:
            client.create_collection(coll, schema=schema, index_params=ip, properties=wire)
        except MilvusException as exc:
            refusals.append(str(getattr(exc, "message", exc)))
            # one vector field only (Milvus 2.3): straight to the last schema
            i = (
                len(options) - 1
                if _refused(exc, "multiple vector") and i < len(options) - 1
                else i + 1
            )
            continue
        call(store, "load_collection", client.load_collection, coll)
        return pre, bits, bm25
    raise StoreError(
        f"Milvus at {store} (version {version}) refused to create collection {coll!r}: "
        + "; ".join(dict.fromkeys(refusals))
    )


__all__ = ["BM25_B", "BM25_K1", "NLIST", "create_collection"]
