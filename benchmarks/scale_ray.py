"""Embedding on a Ray cluster (issue 18): chunks/s with 1 and 2 encoder actors against
in-process embedding, in the same run, on the same chunks (news-article paragraphs).

The script starts a Ray head and one worker (``--num-cpus 1`` each) inside a network
namespace with loopback alone (``unshare -n``; Ray's servers listen on every interface),
runs itself there as the driver, and stops the cluster at the end:

    .venv/bin/python benchmarks/scale_ray.py [--chunks 600] [--batch 32]

Measured, each after a warm-up call: in-process ``minilm`` (torch on every core of this
machine), :class:`~embedlab.models.ray_pool.RayEncoder` with 1 and with 2 actors, fed as the
index writer feeds it (calls of batch x actors x 2 texts), and Ray Data ``map_batches``
(:func:`~embedlab.models.ray_pool.embed_dataset`, its actor start included). Actor start
(process, imports, model load) is printed apart. Each line gives chunks/s and the ratio to
in-process; the vectors are compared too (min cosine to the in-process ones).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

PORT = 6390


def chunks(n: int) -> list[str]:
    """``n`` news paragraphs of 20 words or more (index-sized chunks)."""
    from embedlab.data import news_articles

    out: list[str] = []
    for art in news_articles():
        for para in re.split(r"\n\s*\n|\n", art.text):
            if len(para.split()) >= 20:
                out.append(para.strip())
                if len(out) >= n:
                    return out
    return out


def rate(fn, texts: list[str], group: int) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    """chunks/s of ``fn`` over ``texts`` in calls of ``group`` texts, and the vectors."""
    fn(texts[:group])  # warm-up
    t0 = time.perf_counter()
    parts = [fn(texts[i : i + group]) for i in range(0, len(texts), group)]
    return len(texts) / (time.perf_counter() - t0), np.concatenate(parts)


def inner(address: str, n: int, batch: int) -> None:
    from embedlab.models import load_model
    from embedlab.models.ray_pool import RayEncoder, embed_dataset

    texts = chunks(n)
    local = load_model("minilm")
    rows = []
    base, ref = rate(lambda t: local.embed(t), texts, batch * 4)
    rows.append(("in-process (torch, all cores)", base, 1.0, 1.0, 0.0))
    for actors in (1, 2):
        enc = RayEncoder("minilm", address, batch_size=batch, actors=actors)
        t0 = time.perf_counter()
        enc.start()
        start = time.perf_counter() - t0
        r, vecs = rate(lambda t, e=enc: e.embed(t), texts, enc.embed_group)
        cos = float((vecs * ref).sum(axis=1).min())
        rows.append((f"RayEncoder, {actors} actor(s)", r, r / base, cos, start))
        enc.close()
    t0 = time.perf_counter()
    vecs = embed_dataset(texts, "minilm", address, batch_size=batch, actors=2)
    r = len(texts) / (time.perf_counter() - t0)
    rows.append(("Ray Data map_batches, 2 actors (start incl.)", r, r / base,
                 float((vecs * ref).sum(axis=1).min()), 0.0))  # fmt: skip
    print(json.dumps({"chunks": len(texts), "batch": batch, "rows": rows}))


def outer(n: int, batch: int) -> None:
    if shutil.which("unshare") is None:
        sys.exit("needs unshare (util-linux) and root: Ray listens on every interface")
    ray = shlex.quote(str(Path(sys.executable).with_name("ray")))
    py = shlex.quote(sys.executable)
    me = shlex.quote(str(Path(__file__).resolve()))
    addr = f"127.0.0.1:{PORT}"
    script = (
        f"ip link set lo up && {ray} start --head --node-ip-address 127.0.0.1 --port {PORT} "
        "--num-cpus 1 --include-dashboard=false --disable-usage-stats >/dev/null 2>&1 && "
        f"{ray} start --address {addr} --node-ip-address 127.0.0.1 --num-cpus 1 >/dev/null 2>&1 "
        f"&& {py} {me} --inner {addr} --chunks {n} --batch {batch}; rc=$?; "
        f"{ray} stop --force >/dev/null 2>&1; exit $rc"
    )
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    proc = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True,
                          env=env)  # fmt: skip
    line = next((x for x in proc.stdout.splitlines() if x.startswith("{")), None)
    if line is None:
        sys.exit(f"the benchmark failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    res = json.loads(line)
    print(f"{res['chunks']} chunks, Ray batch {res['batch']}, on {os.cpu_count()} cores "
          f"(load average {os.getloadavg()[0]:.1f} at the end)")  # fmt: skip
    print(f"{'how':<46} {'chunks/s':>9} {'ratio':>6} {'min cos':>8} {'start s':>8}")
    for how, r, ratio, cos, start in res["rows"]:
        print(f"{how:<46} {r:>9.1f} {ratio:>6.2f} {cos:>8.5f} {start:>8.1f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chunks", type=int, default=600)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--inner", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.inner:
        inner(a.inner, a.chunks, a.batch)
    else:
        outer(a.chunks, a.batch)


if __name__ == "__main__":
    main()
