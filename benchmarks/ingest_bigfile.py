"""Peak memory of reading and chunking a big text file with no newline, against the same text
with its newlines, in the same run.

Writes ``MB`` megabytes of real news text twice: as one line (every line break made a
space) and with its line breaks; then, for each, a fresh process reads and chunks it the
way ``index create`` does (``read_file``, the MiniLM chunker at the default 256 tokens with
32 overlap, the writer's :func:`~embedlab.stores.writer.chunk_file`) and reports its peak
resident memory (``ru_maxrss``), chunks and seconds. Embedding is left out: it works on
batches of 128 chunks whatever the file looks like, while the reading and chunking is
where a file's text is held (the issue's 7.7 GB for one 50 MB line).

    .venv/bin/python benchmarks/ingest_bigfile.py [MB] [--code SRC]

``MB`` defaults to 50. ``--code SRC`` runs the children on another checkout's ``src``
folder (e.g. ``git worktree add /tmp/before 13f49c6`` and ``--code /tmp/before/src``, the
code before issue 17: it chunks each record whole). A child whose resident memory passes
``LIMIT_GB`` is stopped (reported as over the limit), so a shared machine is not driven
out of memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from embedlab.data import news_articles

#: a child above this resident memory is killed (the shared machine has ~13 GB free).
LIMIT_GB = 10.0

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from embedlab.models import load_model
from embedlab.stores import writer
from embedlab.stores.chunking import Chunker, ChunkSettings
from embedlab.stores.ingest import read_file
path = Path(sys.argv[1])
chunker = Chunker(load_model("minilm"), ChunkSettings())
t0 = time.perf_counter()
chunks = chars = 0
if hasattr(writer, "chunk_file"):  # this code: records in bounded pieces, carried chunks
    for rec, pieces, base, _ in writer.chunk_file(enumerate(read_file(path)), chunker):
        chunks += len(pieces)
        chars += sum(len(p.text) for p in pieces)
else:  # the code before: each record chunked whole, as its writer did
    for rec in read_file(path):
        pieces = chunker.chunks(rec.text)
        chunks += len(pieces)
        chars += sum(len(p.text) for p in pieces)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB -> MB
print(json.dumps({"peak_mb": peak, "chunks": chunks, "chars": chars, "seconds": seconds}))
"""


def make_files(folder: Path, mb: int) -> tuple[Path, Path]:
    """``mb`` MB of news text with its line breaks, and the same as one line."""
    arts = news_articles()
    parts: list[str] = []
    size, i = 0, 0
    while size < mb * 1_000_000:
        a = arts[i % len(arts)]
        text = f"{a.title}\n\n{a.text.strip()}\n\n"
        parts.append(text)
        size += len(text.encode("utf-8"))
        i += 1
    lines = "".join(parts)
    one = " ".join(lines.split())  # every whitespace run one space: no newline at all
    p_lines, p_one = folder / "lines.txt", folder / "one-line.txt"
    p_lines.write_text(lines, encoding="utf-8")
    p_one.write_text(one, encoding="utf-8")
    return p_one, p_lines


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(path: Path, code: str | None) -> dict[str, float | str]:
    """Peak memory, chunks and seconds of one child reading and chunking ``path``."""
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = code
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    worst = 0.0
    while proc.poll() is None:
        worst = max(worst, rss_mb(proc.pid))
        if worst > LIMIT_GB * 1024:
            proc.kill()
            proc.wait()
            return {"peak_mb": worst, "chunks": 0, "seconds": 0.0, "note": f"> {LIMIT_GB} GB"}
        time.sleep(0.05)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"child failed on {path} (exit {proc.returncode})")
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    args = sys.argv[1:]
    code = None
    if "--code" in args:
        i = args.index("--code")
        code = args[i + 1]
        del args[i : i + 2]
    mb = int(args[0]) if args else 50
    with tempfile.TemporaryDirectory() as tmp:
        one, lines = make_files(Path(tmp), mb)
        print(f"code: {code or 'this checkout'}; {mb} MB of text; MiniLM chunker 256/32")
        print(f"{'file':<14} {'bytes':>12} {'peak RSS MB':>12} {'chunks':>8} {'seconds':>8}")
        res = {}
        for label, path in (("with newlines", lines), ("one line", one)):
            r = measure(path, code)
            res[label] = r
            note = f"  {r['note']}" if "note" in r else ""
            print(
                f"{label:<14} {path.stat().st_size:>12,} {float(r['peak_mb']):>12.0f} "
                f"{int(r['chunks']):>8} {float(r['seconds']):>8.1f}{note}"
            )
    ratio = float(res["one line"]["peak_mb"]) / float(res["with newlines"]["peak_mb"])
    print(f"peak memory, one line / with newlines: {ratio:.2f}x")


if __name__ == "__main__":
    main()
