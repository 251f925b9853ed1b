"""Milvus Lite against the embedded store's query path, on the same vectors, in one run.

Vectors: ``benchmarks/search.py``'s synthetic clustered 384-d vectors (no model: this
measures the stores, not the encoder), with short random-word texts so the BM25 function
has work to do. Milvus Lite is started by this script on 127.0.0.1 (a free port) unless
``--store milvus://HOST:PORT`` names a running server.

- insert rate: rows/s upserted into the collection embedlab makes (float, prefix and sign
  fields, BM25 function), in the writer's batches; baseline: the embedded store's writer
  cost per row (a float32 segment written and fsynced plus its SQLite rows), measured here
  with the same rows.
- query p50/p99 (one query at a time, through ``MilvusIndex.search``/``keyword``, i.e. a
  gRPC round trip each) and recall@10 against exact numpy search; baseline: the embedded
  store's in-process ``DenseIndex`` (the kernel ``EmbeddedIndex.search`` runs).

Run: ``.venv/bin/python benchmarks/scale.py --n 100000`` (ratios printed as Milvus /
embedded; > 1 = Milvus slower).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from embedlab.stores.base import FirstStage  # noqa: E402
from embedlab.stores.dense import DenseIndex  # noqa: E402
from embedlab.stores.ivf import recall_at_k  # noqa: E402
from search import synthetic  # noqa: E402

WORDS = [f"w{i}" for i in range(5000)]


def start_lite(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    from pymilvus import MilvusClient

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("milvus-lite")
    proc = subprocess.Popen(
        [str(exe), "server", "--data-dir", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=2).list_collections(timeout=2)
            return proc, f"milvus://127.0.0.1:{port}"
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("milvus-lite did not start")


def texts_for(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    idx = rng.zipf(1.3, size=(n, 12)) % len(WORDS)
    return [" ".join(WORDS[j] for j in row) for row in idx]


def milvus_insert(
    store: str, vectors: np.ndarray, texts: list[str], batch: int
) -> tuple[float, str]:
    from embedlab.stores import milvus_writer as w
    from embedlab.stores.milvus_client import (  # fmt: skip
        PREFIX_DIMS,
        collection_name,
        connect,
        filter_record,
        prefix_of,
        sign_vector,
    )

    name = f"bench_{len(vectors)}"
    client = connect(store)
    coll = collection_name(name)
    if client.has_collection(coll):
        client.drop_collection(coll)
    d = vectors.shape[1]
    props = {
        "schema": 1, "name": name, "model": "synthetic", "fingerprint": "synthetic",
        "model_info": {"name": "synthetic", "dims": d}, "chunking": {}, "sources": [],
        "generation": 0, "index_type": "IVF_FLAT", "nlist": w.NLIST, "prefix_dims": PREFIX_DIMS,
    }  # fmt: skip
    _, bits, bm25 = w.create_collection(
        client, store, coll, d, PREFIX_DIMS, "IVF_FLAT", props, True
    )
    w.write_properties(client, store, coll, {"bits": bits, "bm25": "milvus" if bm25 else "local"})
    prefix, signs = prefix_of(vectors, PREFIX_DIMS), sign_vector(vectors)
    t0 = time.perf_counter()
    for start in range(0, len(vectors), batch):
        rows = []
        for i in range(start, min(start + batch, len(vectors))):
            src = f"/bench/doc{i // 10}.txt"
            rows.append({
                "id": i, "text": texts[i], "source": src, "title": "", "position": {"record": 0,
                "chunk": i % 10, "start": 0, "end": len(texts[i])}, "metadata": {},
                "fields": filter_record(src, "", {}), "doc_hash": "x", "doc_mtime": 0,
                "doc_size": 0, "doc_chunks": 10, "vector": vectors[i].tolist(),
                "prefix": prefix[i].tolist(), "bits": signs[i].tolist(),
            })  # fmt: skip
        client.upsert(coll, rows)
    w._commit(client, store, coll, props, {"source", "title"}, len(vectors) // 10)
    return time.perf_counter() - t0, name


def embedded_insert(vectors: np.ndarray, texts: list[str], batch: int) -> float:
    """The embedded writer's per-row storage work: segment files (fsynced) and SQLite rows."""
    from embedlab.stores.db import SCHEMA
    from embedlab.stores.writer import write_segment

    folder = Path(tempfile.mkdtemp(prefix="bench-embedded-"))
    try:
        conn = sqlite3.connect(folder / "index.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
        conn.execute(
            "INSERT INTO documents(path, hash, mtime_ns, size, chunks, complete) VALUES ('d', 'h', 0, 0, 0, 1)"
        )
        t0 = time.perf_counter()
        for start in range(0, len(vectors), batch):
            part = vectors[start : start + batch]
            name, digest = write_segment(folder, part)
            conn.execute("BEGIN IMMEDIATE")
            seg = conn.execute(
                "INSERT INTO segments(file, rows, dims, sha256) VALUES (?, ?, ?, ?)",
                (name, len(part), part.shape[1], digest),
            ).lastrowid
            conn.executemany(
                "INSERT INTO chunks(doc_id, record, seq, start_char, end_char, text, title, "
                "metadata, hash, segment, row) VALUES (1, 0, ?, 0, 0, ?, '', '{}', ?, ?, ?)",
                [(start + j, texts[start + j], str(start + j), seg, j) for j in range(len(part))],
            )
            conn.execute("COMMIT")
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def timed(fn, queries: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    out, times = [], []
    for q in queries:
        t0 = time.perf_counter()
        out.append(fn(q))
        times.append(time.perf_counter() - t0)
    return out, np.array(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--store", default=None, help="a running milvus://HOST:PORT")
    args = ap.parse_args()
    os.environ.setdefault("EMBEDLAB_HOME", tempfile.mkdtemp(prefix="bench-home-"))
    vectors, queries = synthetic(args.n, 384, clusters=1000)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True))[: args.queries]
    texts = texts_for(args.n)
    tmp = Path(tempfile.mkdtemp(prefix="bench-milvus-"))
    proc = None
    store = args.store
    if store is None:
        proc, store = start_lite(tmp / "data")
    try:
        from embedlab.stores.milvus import MilvusIndex

        secs, name = milvus_insert(store, vectors, texts, args.batch)
        base = embedded_insert(vectors, texts, args.batch)
        print(f"n={args.n}  insert: milvus {args.n / secs:,.0f} rows/s, embedded {args.n / base:,.0f} rows/s, "
              f"ratio (time) {secs / base:.1f}")  # fmt: skip
        index = MilvusIndex(name, store)
        truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
        dense = DenseIndex(vectors)
        cases = {
            "exact": (FirstStage(exact=True), {"exact": True}),
            "ann": (FirstStage(exact=False), {"exact": False}),
            "dims128": (FirstStage(dims=128), {"dims": 128}),
            "binary": (FirstStage(quantize="binary"), {"quantize": "binary"}),
        }
        print(
            f"{'stage':<8} {'milvus p50':>10} {'p99':>8} {'recall':>7} | {'embedded p50':>12} {'p99':>8} {'recall':>7} | p50 ratio"
        )
        for label, (stage, kw) in cases.items():
            dense.search(queries[0], 10, **kw)  # builds the ANN/codes once, as a warm store has
            m_ids, m_ms = timed(lambda q, s=stage: index.search(q, 10, stage=s).ids[0], queries)
            e_ids, e_ms = timed(lambda q, o=kw: dense.search(q, 10, **o).ids[0], queries)
            m_rec = recall_at_k(np.array(m_ids), truth)
            e_rec = recall_at_k(np.array(e_ids), truth)
            print(f"{label:<8} {np.percentile(m_ms, 50):>8.2f}ms {np.percentile(m_ms, 99):>6.2f}ms {m_rec:>7.3f} | "
                  f"{np.percentile(e_ms, 50):>10.2f}ms {np.percentile(e_ms, 99):>6.2f}ms {e_rec:>7.3f} | "
                  f"{np.percentile(m_ms, 50) / np.percentile(e_ms, 50):.1f}")  # fmt: skip
        words = [" ".join(t.split()[:3]) for t in texts[: args.queries]]
        _, k_ms = timed(lambda q: index.keyword(q, 10).ids, np.array(words, dtype=object))
        print(
            f"bm25     {np.percentile(k_ms, 50):>8.2f}ms {np.percentile(k_ms, 99):>6.2f}ms (Milvus' BM25 function)"
        )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
