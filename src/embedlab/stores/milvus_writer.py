"""Create, update, list and drop indexes held in Milvus (see :mod:`embedlab.stores.milvus`).

Files are read and chunked by :mod:`~embedlab.stores.ingest` and
:mod:`~embedlab.stores.chunking`, as for the embedded store, embedded in batches and
upserted by chunk id. The id is a hash of (file, record, chunk number, text), so a batch
written twice lands on the same rows. Every row carries its file's sha256, mtime, size and
chunk count: a file is complete in Milvus when it has as many rows with its hash as its
chunk count says. The commit marker (the ``embedlab.committed`` property, with the
generation) is written last.

So a run killed at any moment (SIGKILL during ``index create``) leaves some complete
files, at most one partial file and no marker; ``index update`` finds the partial file
(fewer rows than its count), embeds only its missing chunks, deletes rows of files that
changed or went away, and writes the marker: exactly the rows a clean build makes.

A registry (``home()/stores.json``: index name -> store URI) lets every command that
opens an index by name (search, ask, eval, the web pages) find it without ``--store``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import (
    FingerprintMismatchError,
    IndexExistsError,
    InputError,
    StoreError,
)
from embedlab.models import Encoder, load_model
from embedlab.settings import home
from embedlab.stores.base import build_description
from embedlab.stores.chunking import Chunker, ChunkSettings
from embedlab.stores.ingest import (
    ReadOptions,
    Record,
    SkipFile,
    Skipped,
    discover,
    probe,
    read_file,
    readable,
)
from embedlab.stores.milvus import MilvusIndex
from embedlab.stores.milvus_client import (
    INDEX_TYPES,
    MAX_VARCHAR,
    PAGE,
    PREFIX_DIMS,
    call,
    chunk_id,
    collection_name,
    connect,
    filter_record,
    open_props,
    parse_uri,
    prefix_of,
    read_properties,
    sign_vector,
    unit,
    write_properties,
)
from embedlab.stores.writer import (
    Progress,
    WriteReport,
    chunk_file,
    file_digest,
    text_hash,
)

#: chunks embedded per encoder call (and rows per upsert).
BATCH = 128
#: IVF lists of the float field (nprobe = nlist is exact search).
NLIST = 128
#: the BM25 parameters of the embedded store (stores/keyword.py).
BM25_K1, BM25_B = 1.5, 0.75


# --- the registry --------------------------------------------------------------------


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


# --- schema --------------------------------------------------------------------------


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


def _create_collection(
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


# --- writing -------------------------------------------------------------------------


@dataclass
class _Existing:
    """What Milvus holds of one file: its rows' ids, hashes and chunk counts."""

    ids: set[int] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)
    chunks: set[int] = field(default_factory=set)
    mtime: set[int] = field(default_factory=set)
    size: set[int] = field(default_factory=set)

    def complete(self) -> bool:
        return len(self.hashes) == 1 and self.chunks == {len(self.ids)}


def _existing(client: Any, store: str, coll: str) -> dict[str, _Existing]:
    out: dict[str, _Existing] = {}
    it = call(
        store, "query_iterator", client.query_iterator, coll, batch_size=PAGE * 4, filter="",
        output_fields=["id", "source", "doc_hash", "doc_chunks", "doc_mtime", "doc_size"],
    )  # fmt: skip
    try:
        while page := call(store, "query_iterator.next", it.next):
            for r in page:
                e = out.setdefault(str(r["source"]), _Existing())
                e.ids.add(int(r["id"]))
                e.hashes.add(str(r["doc_hash"]))
                e.chunks.add(int(r["doc_chunks"]))
                e.mtime.add(int(r["doc_mtime"]))
                e.size.add(int(r["doc_size"]))
    finally:
        it.close()
    return out


class MilvusWriter:
    """Writes files into one Milvus collection (upserts by chunk id, in batches)."""

    def __init__(
        self, client: Any, store: str, coll: str, props: dict[str, Any], encoder: Encoder,
        report: WriteReport, progress: Progress | None,
    ) -> None:  # fmt: skip
        self.client, self.store, self.coll = client, store, coll
        self.encoder = encoder
        self.chunker = Chunker(encoder, ChunkSettings(**props["chunking"]))
        self.options = ReadOptions(**props.get("read_options", {}))
        self.prefix = int(props.get("prefix_dims", 0))
        self.bits = str(props.get("bits", "none"))
        self.report = report
        self.progress = progress
        self.fields: set[str] = set(props.get("fields", []))
        self.files_done = 0
        self.files_total = 0

    def tick(self) -> None:
        if self.progress is not None:
            self.progress(self.files_done, self.files_total, self.report.chunks_embedded)

    def sync(self, files: Sequence[Path]) -> None:
        """Bring the collection in line with ``files``."""
        t0 = time.perf_counter()
        existing = _existing(self.client, self.store, self.coll)
        self.files_total = len(files)
        for f in files:
            self._file(f, existing.pop(str(f), None))
            self.files_done += 1
            self.tick()
        for _path, gone in sorted(existing.items()):  # removed files: last
            self._delete(sorted(gone.ids))
            self.report.files_removed += 1
            self.report.chunks_removed += len(gone.ids)
        self.report.seconds = time.perf_counter() - t0

    @property
    def documents(self) -> int:
        """Files that have rows after :meth:`sync`."""
        return self.report.files_indexed + self.report.files_unchanged

    def _file(self, path: Path, old: _Existing | None) -> None:
        try:
            st = path.stat()
        except OSError as exc:
            self.report.skipped.append(Skipped(str(path), f"cannot be read: {exc.strerror or exc}"))
            return
        if old and old.complete() and old.mtime == {st.st_mtime_ns} and old.size == {st.st_size}:
            self.report.files_unchanged += 1
            return
        try:
            probe(path)
            digest = file_digest(path)
            rows = self._rows(path, digest, st.st_mtime_ns, st.st_size)
        except SkipFile as exc:
            self.report.skipped.append(Skipped(str(path), str(exc)))
            if old:
                self._delete(sorted(old.ids))
                self.report.chunks_removed += len(old.ids)
            return
        if not rows:
            self.report.skipped.append(Skipped(str(path), "empty document (no text)"))
            if old:
                self._delete(sorted(old.ids))
                self.report.chunks_removed += len(old.ids)
            return
        have = old.ids if old and old.hashes == {digest} else set()
        wanted = {int(r["id"]) for r in rows}
        if old and old.complete() and have == wanted:
            self.report.files_unchanged += 1  # same bytes, a new mtime: nothing to embed
            return
        todo = [r for r in rows if int(r["id"]) not in have]
        self.report.chunks_reused += len(rows) - len(todo)
        for start in range(0, len(todo), BATCH):
            self._upsert(todo[start : start + BATCH])
        stale = sorted((old.ids if old else set()) - wanted)
        self._delete(stale)
        self.report.chunks_removed += len(stale)
        self.report.files_indexed += 1

    def _rows(self, path: Path, digest: str, mtime: int, size: int) -> list[dict[str, Any]]:
        """The file's chunk rows, chunked as the embedded writer chunks them
        (:func:`~embedlab.stores.writer.chunk_file`: the pieces of one long text that the
        bounded reader cuts are chunked as one text), so both stores hold the same chunks."""
        rows: list[dict[str, Any]] = []
        next_seq: dict[int, int] = {}
        for rec, pieces, base, _resume in chunk_file(self._records(path), self.chunker):
            if not pieces:
                continue
            first = next_seq.get(rec.record, 0)
            next_seq[rec.record] = first + len(pieces)
            meta = json.loads(json.dumps(rec.metadata, ensure_ascii=False, default=str))
            record = filter_record(str(path), rec.title, meta)
            self.fields.update(record)
            for seq, piece in enumerate(pieces, start=first):
                if len(piece.text.encode("utf-8")) > MAX_VARCHAR:
                    raise InputError(
                        f"A chunk of {path} is longer than Milvus' {MAX_VARCHAR} bytes."
                    )
                rows.append({
                    "id": chunk_id(str(path), rec.record, seq, text_hash(piece.text)),
                    "text": piece.text, "source": str(path), "title": rec.title[:4000],
                    "position": {"record": rec.record, "chunk": seq,
                                 "start": base + piece.start, "end": base + piece.end},
                    "metadata": meta, "fields": record, "doc_hash": digest,
                    "doc_mtime": mtime, "doc_size": size,
                })  # fmt: skip
        for r in rows:
            r["doc_chunks"] = len(rows)
        return rows

    def _records(self, path: Path) -> Iterator[tuple[int, Record]]:
        """The file's numbered records; a part that could not be read is reported and left
        out."""
        for n, rec in enumerate(read_file(path, self.options)):
            if rec.problem:
                self.report.skipped.append(Skipped(str(path), rec.problem, rec.line))
                continue
            yield n, rec

    def _upsert(self, rows: list[dict[str, Any]]) -> None:
        t0 = time.perf_counter()
        vectors = unit(self.encoder.embed([r["text"] for r in rows], role="document"))
        self.report.embed_seconds += time.perf_counter() - t0
        for r, v in zip(rows, vectors, strict=True):
            r["vector"] = v.tolist()
        if self.prefix:
            for r, p in zip(rows, prefix_of(vectors, self.prefix), strict=True):
                r["prefix"] = p.tolist()
        if self.bits == "binary":
            for r, v in zip(rows, vectors, strict=True):
                r["bits"] = bytes(np.packbits(v > 0))
        elif self.bits == "sign":
            for r, s in zip(rows, sign_vector(vectors), strict=True):
                r["bits"] = s.tolist()
        call(self.store, "upsert", self.client.upsert, self.coll, rows)
        self.report.chunks_embedded += len(rows)
        self.tick()

    def _delete(self, ids: list[int]) -> None:
        for start in range(0, len(ids), PAGE):
            part = ids[start : start + PAGE]
            call(self.store, "delete", self.client.delete, self.coll, ids=part)


def _commit(
    client: Any, store: str, coll: str, props: dict[str, Any], fields: set[str], documents: int
) -> None:
    """The commit marker, written last: a new generation, the fields filters can read."""
    gen = max(int(props.get("generation", 0)) + 1, time.time_ns() // 1_000_000)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    call(store, "flush", client.flush, coll)
    write_properties(client, store, coll, {
        "fields": sorted(fields), "updated": now, "generation": gen, "committed": gen,
            "documents": documents,
    })  # fmt: skip


def create_milvus(
    name: str,
    sources: Sequence[str | Path],
    store: str,
    encoder: Encoder,
    *,
    chunking: ChunkSettings,
    text_field: str = "text",
    title_field: str = "title",
    progress: Progress | None = None,
    index_type: str = "IVF_FLAT",
    full_text: bool = True,
) -> MilvusIndex:
    """Create index ``name`` as a collection in the Milvus server ``store``.

    :param full_text: use Milvus' BM25 function when the server has it (``False``: keyword
        search always runs in this process, as against an older server).
    :raises IndexExistsError: when the collection exists.
    """
    store, _ = parse_uri(store)
    if not sources:
        raise InputError("No sources given: name at least one file or folder to index.")
    if index_type not in INDEX_TYPES:
        raise InputError(f"Unknown Milvus index type {index_type!r}: use {', '.join(INDEX_TYPES)}.")
    settings = chunking.validate(encoder.info.max_tokens)
    files, skipped = discover(sources)
    ok = readable(sources, files, skipped)
    client = connect(store)
    coll = collection_name(name)
    if call(store, "has_collection", client.has_collection, coll):
        raise IndexExistsError(
            f"Index {name!r} already exists in Milvus at {store} (collection {coll!r}): run "
            f"'embedlab index update {name}', or drop it first."
        )
    dims = int(encoder.info.dims)
    prefix = PREFIX_DIMS if dims > PREFIX_DIMS else 0
    props: dict[str, Any] = {
        "schema": 1,
        **build_description(name, encoder, settings, sources, text_field, title_field),
        "generation": 0,
        "index_type": index_type,
        "nlist": NLIST,
        "prefix_dims": prefix,
    }
    prefix, bits, bm25 = _create_collection(
        client, store, coll, dims, prefix, index_type, props, full_text
    )
    extra = {"prefix_dims": prefix, "bits": bits, "bm25": "milvus" if bm25 else "local"}
    write_properties(client, store, coll, extra)
    props.update(extra)
    remember(name, store)
    report = WriteReport(skipped=list(skipped))
    writer = MilvusWriter(client, store, coll, props, encoder, report, progress)
    writer.sync(ok)
    _commit(client, store, coll, props, writer.fields, writer.documents)
    index = MilvusIndex(name, store)
    index.report = report
    return index


def update_milvus(
    name: str, store: str, model: str | Encoder | None = None, *, progress: Progress | None = None
) -> WriteReport:
    """Re-read the sources of index ``name``; finishes an interrupted create or update."""
    store, _ = parse_uri(store)
    client, coll, props = open_props(store, name, committed=False)
    encoder = model if isinstance(model, Encoder) else load_model(model or str(props["model"]))
    if encoder.info.fingerprint != props["fingerprint"]:
        raise FingerprintMismatchError(
            f"Index {name!r} in Milvus at {store} was built with model {props['model']!r} "
            f"(fingerprint {props['fingerprint']}); {encoder.info.name!r} has fingerprint "
            f"{encoder.info.fingerprint}. Update it with its own model, or build a new index."
        )
    files, skipped = discover(props["sources"])
    report = WriteReport(skipped=list(skipped))
    writer = MilvusWriter(client, store, coll, props, encoder, report, progress)
    writer.sync(files)
    _commit(client, store, coll, props, writer.fields, writer.documents)
    remember(name, store)
    return report


def drop_milvus(name: str, store: str) -> None:
    """Drop index ``name``'s collection (refused for a collection embedlab did not make)."""
    store, _ = parse_uri(store)
    client, coll, _props = open_props(store, name, committed=False)
    call(store, "drop_collection", client.drop_collection, coll)
    forget(name)


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


def check_milvus(name: str, store: str) -> Any:
    """``index check`` for a Milvus index: properties (fingerprint, commit marker), and
    that every file's rows are complete (as many rows with one hash as its chunk count)
    and every row has its vector. Read-only.

    :returns: a :class:`~embedlab.stores.check.CheckReport` (folder = the store and
        collection).
    """
    from embedlab.stores.check import CheckReport

    store, _ = parse_uri(store)
    client, coll, props = open_props(store, name, committed=False)
    report = CheckReport(name, f"{store}/{coll}")
    report.schema_version = int(props.get("schema", 0))
    report.model, report.fingerprint = str(props.get("model", "")), str(props["fingerprint"])
    report.integrity = "milvus"
    hint = f"run 'embedlab index update {name}' to finish it"
    if not props.get("committed"):
        report.problems.append(f"No commit marker: a create was interrupted; {hint}.")
    files = _existing(client, store, coll)
    report.documents = len(files)
    report.chunks = sum(len(e.ids) for e in files.values())
    for path, e in sorted(files.items()):
        if not e.complete():
            have = len(e.ids)
            want = ", ".join(str(c) for c in sorted(e.chunks))
            report.problems.append(
                f"{path}: {have} row(s) for {want} chunk(s) of {len(e.hashes)} version(s) of "
                f"the file (a run was interrupted); {hint}."
            )
    rows = call(store, "count", client.query, coll, filter="", output_fields=["count(*)"],
                consistency_level="Strong")  # fmt: skip
    total = int(rows[0]["count(*)"]) if rows else 0
    if total != report.chunks:
        report.problems.append(f"{total} rows counted, {report.chunks} read: {hint}.")
    report.notes.append(
        f"Milvus at {store}, collection {coll!r}: Milvus keeps its own segments and checks "
        "them; this check reads the rows."
    )
    return report


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
    "check_milvus",
    "create_milvus",
    "drop_milvus",
    "find_store",
    "known_stores",
    "milvus_indexes",
    "registry",
    "resolve",
    "survey_milvus",
    "update_milvus",
]
