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

The collection's schema (fields, the BM25 function, indexes, the older servers' fallbacks)
is made by :mod:`~embedlab.stores.milvus_schema`; where indexes live (the registry) is kept
by :mod:`~embedlab.stores.milvus_registry`, whose functions are importable from here too.
"""

from __future__ import annotations

import json
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
)
from embedlab.models import Encoder, load_model
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
    sign_vector,
    unit,
    write_properties,
)
from embedlab.stores.milvus_registry import (
    find_store,
    forget,
    known_stores,
    milvus_indexes,
    registry,
    remember,
    resolve,
    survey_milvus,
)
from embedlab.stores.milvus_schema import NLIST, create_collection
from embedlab.stores.resume import chunk_file
from embedlab.stores.write_run import Progress, WriteReport, file_digest, text_hash

#: chunks embedded per encoder call (and rows per upsert).
BATCH = 128


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
    prefix, bits, bm25 = create_collection(
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
