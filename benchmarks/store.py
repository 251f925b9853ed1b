"""The embedded store at scale (issue 17): synthetic 384-d vectors written through the
store's segment writer (``stores.writer.write_segment``, 262,144 rows a segment, as a
compacted index holds them; chunk rows inserted as the writer inserts them, without a
model: the vectors are synthetic), then, each in a fresh process with the caches on disk:

- open + first dense query (default stage: IVF from 50,000 rows on);
- resident memory: VmRSS, and VmRSS minus the mapped index files (segments and the
  memory-mapped IVF lists, from /proc/self/smaps), RssAnon, peak (VmHWM);
- IVF query through ``index.search`` vs the same FAISS index called directly (p50 over
  200 queries, one thread), recall@10 against exact search;
- filtered query (``part=3``: 10 % of the rows) vs unfiltered: the first (SQLite selects the
  rows) and the p50 of the repeated ones, and its recall@10 against the exact filtered answer;
- the writer's step after a commit (``stores.cache.refresh_ann``, as ``index create`` and
  ``update`` run it): the IVF built, or updated by id once the change is past the delta a
  reader serves, timed in a fresh process;
- first query after adding one chunk (a new generation: served from the IVF file plus a
  delta), after removing 1 % of the chunks (then the writer's step), and after adding
  6 %: while the writer holds the IVF lock (the older file plus the delta), then after
  its step (the file updated by id: ``remove_ids``/``add_core``, written again).

    .venv/bin/python benchmarks/store.py --sizes 100000,1000000

Vectors: 2,000 Gaussian clusters (noise of norm 1.0 around unit centres), normalised; queries:
stored vectors plus noise. The home is a temporary folder (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

DIMS = 384
SEGMENT = 262_144
CLUSTERS = 2000


def synthetic(n: int, seed: int = 0, start: int = 0) -> np.ndarray:
    """``n`` clustered unit vectors (rows ``start..start+n`` of one fixed collection)."""
    centres = np.random.default_rng(12345).standard_normal((CLUSTERS, DIMS)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rng = np.random.default_rng(seed * 1_000_003 + start)
    which = rng.integers(0, CLUSTERS, size=n)
    x = centres[which] + rng.standard_normal((n, DIMS)).astype(np.float32) * (1.0 / np.sqrt(DIMS))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def _meta(name: str, dims: int) -> dict[str, Any]:
    from embedlab.stores.db import SCHEMA_VERSION

    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    info = {"name": "synthetic", "dims": dims, "max_tokens": 512, "normalized": True}
    return {
        "schema_version": SCHEMA_VERSION, "name": name, "engine": "embedded",
        "model": "synthetic", "model_info": info, "fingerprint": f"synthetic-{dims}",
        "chunking": {}, "read_options": {}, "sources": [], "created": now, "updated": now,
        "generation": time.time_ns() // 1_000_000,
    }  # fmt: skip


def make_index(name: str, n: int, dims: int = DIMS, vectors: Any = None) -> Path:
    """An embedded index ``name`` of ``n`` synthetic chunks in the current home: segments
    through ``write_segment``, one document per 1,000 chunks, metadata ``{"part": row %
    10, "even": row % 2 == 0}``. ``vectors(start, stop)`` gives the rows (default:
    :func:`synthetic`)."""
    from embedlab.stores.db import SCHEMA, connect
    from embedlab.stores.embedded import index_folder
    from embedlab.stores.writer import write_segment

    make = vectors or (lambda a, b: synthetic(b - a, start=a))
    folder = index_folder(name)
    folder.mkdir(parents=True)
    conn = connect(folder, write=True, name=name)
    conn.executescript(SCHEMA)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?)",
        [(k, json.dumps(v)) for k, v in _meta(name, dims).items()],
    )
    docs = (n + 999) // 1000
    conn.executemany(
        "INSERT INTO documents(id, path, hash, mtime_ns, size, chunks, complete) "
        "VALUES (?, ?, '', 0, 0, ?, 1)",
        [(d + 1, f"/synthetic/doc{d}.txt", min(1000, n - d * 1000)) for d in range(docs)],
    )
    for start in range(0, n, SEGMENT):
        stop = min(start + SEGMENT, n)
        _segment(conn, folder, make(start, stop), start, write_segment)
    conn.execute("COMMIT")
    conn.close()
    return folder


def _segment(conn: sqlite3.Connection, folder: Path, matrix: np.ndarray, start: int,
             write_segment: Any) -> None:  # fmt: skip
    file, digest = write_segment(folder, matrix)
    seg = conn.execute(
        "INSERT INTO segments(file, rows, dims, sha256) VALUES (?, ?, ?, ?)",
        (file, len(matrix), matrix.shape[1], digest),
    ).lastrowid
    conn.executemany(
        "INSERT INTO chunks(doc_id, record, seq, start_char, end_char, text, title, metadata, "
        "hash, segment, row) VALUES (?, ?, 0, 0, 10, ?, '', ?, ?, ?, ?)",
        (
            (i // 1000 + 1, i % 1000, f"chunk {i} w{i % 97}",
             json.dumps({"part": i % 10, "even": i % 2 == 0}), f"h{i}", seg, i - start)
            for i in range(start, start + len(matrix))
        ),
    )  # fmt: skip


def add_chunks(name: str, matrix: np.ndarray) -> None:
    """Commit ``matrix`` as new chunks (one new segment, a new generation), as the writer
    does, under the write lock."""
    from embedlab.stores.db import LOCK_NAME, connect
    from embedlab.stores.embedded import index_folder
    from embedlab.stores.lock import WriteLock
    from embedlab.stores.writer import bump_generation, write_segment

    folder = index_folder(name)
    with WriteLock(folder / LOCK_NAME, name):
        conn = connect(folder, write=True, name=name)
        top = conn.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        _segment(conn, folder, matrix, int(top), write_segment)
        bump_generation(conn)
        conn.execute("COMMIT")
        conn.close()


def remove_chunks(name: str, ids: list[int]) -> None:
    """Delete chunks by id (a new generation), under the write lock."""
    from embedlab.stores.db import LOCK_NAME, connect
    from embedlab.stores.embedded import index_folder
    from embedlab.stores.lock import WriteLock
    from embedlab.stores.writer import bump_generation

    folder = index_folder(name)
    with WriteLock(folder / LOCK_NAME, name):
        conn = connect(folder, write=True, name=name)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("DELETE FROM chunks WHERE id=?", [(i,) for i in ids])
        bump_generation(conn)
        conn.execute("COMMIT")
        conn.close()


#: run in a fresh process: open, first query, memory, then the timed comparisons.
PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from embedlab.stores import open_index
from embedlab.stores.base import FirstStage
import faiss, embedlab.stores.local  # what the first query imports (FAISS, numba, bm25s)
t_import = time.perf_counter() - t0
name, mode = sys.argv[1], sys.argv[2]
def memory(folder):
    status = {l.split(':')[0]: int(l.split()[1]) * 1024 for l in open('/proc/self/status')
              if l.startswith(('VmRSS', 'RssAnon', 'RssFile', 'VmHWM'))}
    mapped, path = 0, ''
    for line in open('/proc/self/smaps'):
        head = line.split()
        if head and '-' in head[0] and not head[0].endswith(':'):  # a mapping's first line
            path = head[5] if len(head) >= 6 else ''  # anonymous: no path
        elif head and head[0] == 'Rss:' and path.startswith(str(folder)):
            mapped += int(head[1]) * 1024
    return {**status, 'mapped': mapped, 'beyond_mapped': status['VmRSS'] - mapped}

q = np.load(sys.argv[3])
t1 = time.perf_counter()
profile = None
if mode == 'profile':
    import cProfile
    profile = cProfile.Profile()
    profile.enable()
index = open_index(name)
first = index.search(q[:1], 10)
t_first = time.perf_counter() - t0
t_store = time.perf_counter() - t1
if profile is not None:
    import pstats
    profile.disable()
    pstats.Stats(profile, stream=sys.stderr).sort_stats('cumulative').print_stats(14)

out = {'open_first_query_s': t_first, 'imports_s': t_import, 'store_s': t_store,
       'steady': memory(index.folder)}
if mode == 'full':
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    from embedlab.stores.filters import Eq
    from embedlab.stores.local import local_queries
    dense = local_queries(index).dense_index()
    ann = dense.ann_index()
    def p50(f, qs):
        ts = []
        for row in qs:
            t = time.perf_counter(); f(row[None]); ts.append(time.perf_counter() - t)
        return float(np.median(ts))
    qs = q[:200]
    for row in qs[:5]:
        index.search(row[None], 10); ann.search(row[None], 10)
    out['ivf_p50_s'] = p50(lambda r: index.search(r, 10), qs)
    out['faiss_direct_p50_s'] = p50(lambda r: ann.search(r, 10), qs)
    import faiss
    heap = faiss.read_index(str(sorted((index.folder / 'ann').glob('gen-*.faiss'))[-1]))
    heap.nprobe = ann.nprobe
    out['faiss_in_memory_p50_s'] = p50(lambda r: heap.search(r, 10), qs)
    del heap
    out['nprobe'], out['nlist'] = int(ann.nprobe), int(ann.nlist)
    got = index.search(q[:100], 10).ids
    exact = index.search(q[:100], 10, stage=FirstStage(exact=True)).ids
    out['recall10'] = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, exact)]))
    flt = Eq('part', '3')
    t = time.perf_counter(); index.search(q[:1], 10, filter=flt); out['filtered_first_s'] = time.perf_counter() - t
    out['filtered_p50_s'] = p50(lambda r: index.search(r, 10, filter=flt), qs)
    fgot = index.search(q[:100], 10, filter=flt).ids
    fexact = index.search(q[:100], 10, filter=flt, stage=FirstStage(exact=True)).ids
    out['filtered_recall10'] = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(fgot, fexact)]))
    out['filtered_exact_p50_s'] = p50(lambda r: index.search(r, 10, filter=flt, stage=FirstStage(exact=True)), qs[:20])
    out['rows'] = len(index.chunk_ids())
out['memory'] = memory(index.folder)
print(json.dumps(out))
"""


#: run in a fresh process: what ``index create``/``update`` do after their commit
#: (``stores.cache.refresh_ann``: build or update the IVF file), timed, with the peak.
REFRESH = r"""
import json, sys, time
t0 = time.perf_counter()
from embedlab.stores import open_index
from embedlab.stores.cache import refresh_ann
how = refresh_ann(open_index(sys.argv[1]))
peak = [int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0]
print(json.dumps({'how': how, 's': time.perf_counter() - t0, 'peak': peak}))
"""


def refresh(name: str, env: dict[str, str]) -> dict[str, Any]:
    """Run :data:`REFRESH` in a fresh process; its JSON answer."""
    res = subprocess.run(
        [sys.executable, "-c", REFRESH, name], env=env, capture_output=True, text=True,
        timeout=7200,
    )  # fmt: skip
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def held_lock(folder: Path) -> Any:
    """The IVF cache lock, held as a builder holds it (``flock``; released on close)."""
    import fcntl

    f = open(folder / "ann" / ".lock", "a+")  # noqa: SIM115 - closed by the caller
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def probe(name: str, mode: str, queries: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run :data:`PROBE` in a fresh process; its JSON answer."""
    t = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", PROBE, name, mode, str(queries)],
        env=env, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    if mode == "profile":
        print("\n".join(ln for ln in res.stderr.splitlines() if ln.strip())[-2500:])
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - t
    return out


def ann_state(folder: Path) -> str:
    states = sorted((folder / "ann").glob("gen-*.json"))
    return json.loads(states[-1].read_text())["how"] if states else "none"


def gb(x: float) -> str:
    return f"{x / 2**30:.2f} GB"


def run(n: int, home: Path) -> None:
    env = {**os.environ, "EMBEDLAB_HOME": str(home), "OMP_NUM_THREADS": "2"}
    os.environ["EMBEDLAB_HOME"] = str(home)
    name = f"bench{n}"
    t = time.perf_counter()
    folder = make_index(name, n)
    print(f"\n== {n:,} x {DIMS}: written in {time.perf_counter() - t:.1f} s "
          f"({sum(p.stat().st_size for p in folder.rglob('*') if p.is_file()) / 2**30:.2f} GB on disk)")  # fmt: skip
    rng = np.random.default_rng(7)
    base = synthetic(300, seed=0, start=int(rng.integers(0, n - 300)))
    q = base + rng.standard_normal(base.shape).astype(np.float32) * (0.5 / np.sqrt(DIMS))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    qpath = home / f"q{n}.npy"
    np.save(qpath, q.astype(np.float32))
    made = refresh(name, env)
    print(
        f"the writer's step after the commit (builds the IVF file, as index create does): "
        f"{made['s']:.1f} s, peak {gb(made['peak'])} (VmHWM: the mapped segments' pages "
        f"count), ann: {made['how']}"
    )
    cold = probe(name, "full", qpath, env)
    m = cold["memory"]
    print(
        f"fresh process, caches on disk: open + first query {cold['open_first_query_s']:.3f} s "
        f"(target < 1 s): imports {cold['imports_s']:.3f} s, open + query {cold['store_s']:.3f} s"
    )
    st = cold["steady"]
    print(
        f"resident right after the first query: VmRSS {gb(st['VmRSS'])}, mapped index files "
        f"{gb(st['mapped'])}, beyond mapped {gb(st['beyond_mapped'])} (target < 1 GB), "
        f"RssAnon {gb(st['RssAnon'])}"
    )
    print(
        f"resident at the end (after the exact ground truth, 100 x n scores): VmRSS {gb(m['VmRSS'])}, mapped index files {gb(m['mapped'])}, beyond "
        f"mapped {gb(m['beyond_mapped'])} (target < 1 GB), RssAnon {gb(m['RssAnon'])}, "
        f"peak {gb(m['VmHWM'])}"
    )
    print(
        f"IVF query p50: index.search {cold['ivf_p50_s'] * 1e3:.3f} ms, same FAISS index "
        f"called directly {cold['faiss_direct_p50_s'] * 1e3:.3f} ms: ratio "
        f"{cold['ivf_p50_s'] / cold['faiss_direct_p50_s']:.2f}x (target < 1.5x); FAISS "
        f"index read into memory {cold['faiss_in_memory_p50_s'] * 1e3:.3f} ms "
        f"(nprobe {cold['nprobe']}/{cold['nlist']})"
    )
    print(f"recall@10 vs exact: {cold['recall10']:.3f} (target >= 0.95)")
    print(
        f"filtered (10 %): first {cold['filtered_first_s'] * 1e3:.1f} ms (SQLite selects the "
        f"rows), p50 {cold['filtered_p50_s'] * 1e3:.3f} ms = "
        f"{cold['filtered_p50_s'] / cold['ivf_p50_s']:.2f}x unfiltered (target < 5x), recall@10 "
        f"{cold['filtered_recall10']:.3f}; exact filtered p50 "
        f"{cold['filtered_exact_p50_s'] * 1e3:.1f} ms"
    )
    add_chunks(name, synthetic(1, seed=9))
    added = probe(name, "first", qpath, env)
    print(
        f"after adding one chunk, fresh process: open + first query "
        f"{added['open_first_query_s']:.2f} s (target < 1 s; open + query {added['store_s']:.3f} s), "
        f"beyond mapped {gb(added['steady']['beyond_mapped'])}, peak "
        f"{gb(added['memory']['VmHWM'])}, ann: {ann_state(folder)}"
    )
    again = probe(name, "first", qpath, env)
    print(
        f"  the next fresh process: {again['open_first_query_s']:.3f} s, ann: {ann_state(folder)}"
    )
    remove_chunks(name, list(range(1, n // 100 + 1)))
    after_remove = refresh(name, env)
    removed = probe(name, "first", qpath, env)
    print(
        f"after removing 1 % ({n // 100:,} chunks): the writer's step "
        f"{after_remove['s']:.2f} s ({after_remove['how']}, peak {gb(after_remove['peak'])}); "
        f"then open + first query {removed['open_first_query_s']:.2f} s (open + query "
        f"{removed['store_s']:.3f} s), ann: {ann_state(folder)}"
    )
    grow = max(n * 6 // 100, 1)
    add_chunks(name, synthetic(grow, seed=11, start=n))
    lock = held_lock(folder)
    try:
        busy = probe(name, "first", qpath, env)
    finally:
        lock.close()
    print(
        f"after adding 6 % ({grow:,} chunks), while the writer still holds the IVF lock: "
        f"open + first query {busy['open_first_query_s']:.2f} s (open + query "
        f"{busy['store_s']:.3f} s: the older file plus a {grow:,}-row delta), "
        f"ann: {ann_state(folder)}"
    )
    grown_refresh = refresh(name, env)
    grown = probe(name, "first", qpath, env)
    print(
        f"  the writer's step (the file updated by id and rewritten): "
        f"{grown_refresh['s']:.1f} s ({grown_refresh['how']}, peak "
        f"{gb(grown_refresh['peak'])}); then open + first query "
        f"{grown['open_first_query_s']:.2f} s (open + query {grown['store_s']:.3f} s), "
        f"ann: {ann_state(folder)}"
    )
    shutil.rmtree(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated row counts")
    parser.add_argument("--home", default=None, help="where to build (default: a temp folder)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    home = Path(args.home or tempfile.mkdtemp(prefix="embedlab-store-bench-"))
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            run(n, home)
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
