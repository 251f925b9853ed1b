"""Serving benchmark: /v1/embeddings under 32 concurrent clients, batching on vs off.

Each client sends one sentence per request, back to back, for ``--seconds``. The same app
runs twice in this run, each time as its own uvicorn process on loopback: once with the
model pool merging concurrent requests (the default), once encoding each request alone.
Prints requests/s and p50/p99 latency for both, and the ratios.

    .venv/bin/python benchmarks/serve.py [--clients 32] [--seconds 20] [--rounds 1] [--model minilm]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx
import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int, batching: bool, model: str) -> None:
    """Child process: the web app under uvicorn (batching on or off)."""
    import uvicorn

    from embedlab.server.app import create_app
    from embedlab.server.models import configure_threads

    configure_threads()  # as 'embedlab serve' does: same threads for both servers
    app = create_app([model], batching=batching)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=60)


@dataclass
class Result:
    label: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    encoder_calls: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000


async def _client(
    c: httpx.AsyncClient, i: int, stop: float, lat: list[float], errs: list[int]
) -> None:
    n = 0
    while time.perf_counter() < stop:
        text = f"Client {i} asks question number {n} about embeddings and vectors."
        start = time.perf_counter()
        try:
            r = await c.post("/v1/embeddings", json={"input": text})
            status = r.status_code
        except httpx.HTTPError:  # a dropped connection counts as an error, not a crash
            status = -1
        if status == 200:
            lat.append(time.perf_counter() - start)
        else:
            errs.append(status)
        n += 1


async def load(base: str, clients: int, seconds: float, label: str) -> Result:
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as c:
        # warm-up: the model is loaded and a few batches have run
        await asyncio.gather(
            *[c.post("/v1/embeddings", json={"input": f"warm {i}"}) for i in range(clients)]
        )
        before = (await c.get("/health")).json()["stats"]["encoder_calls"]
        lat: list[float] = []
        errs: list[int] = []
        start = time.perf_counter()
        stop = start + seconds
        await asyncio.gather(*[_client(c, i, stop, lat, errs) for i in range(clients)])
        took = time.perf_counter() - start
        after = (await c.get("/health")).json()["stats"]["encoder_calls"]
    return Result(label, len(lat), len(errs), took, lat, after - before)


def _merge(parts: list[Result]) -> Result:
    return Result(
        parts[0].label,
        sum(p.requests for p in parts),
        sum(p.errors for p in parts),
        sum(p.seconds for p in parts),
        [x for p in parts for x in p.latencies],
        sum(p.encoder_calls for p in parts),
    )


def run_one(batching: bool, args: argparse.Namespace) -> Result:
    port = _free_port()
    env = dict(
        os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false"
    )
    cmd = [sys.executable, __file__, "--serve", str(port), "--batching", "on" if batching else "off",
           "--model", args.model]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.3)
        label = "batched" if batching else "one request per encode"
        return asyncio.run(load(base, args.clients, args.seconds, label))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def model_ceiling(model: str, n: int = 32) -> tuple[float, float]:
    """Sentences/s of the model alone, one torch thread: one by one, and in one batch of n.

    The most batching can win in the server is about the ratio of the two.
    """
    from embedlab.models import load_model
    from embedlab.server.models import configure_threads

    configure_threads()
    enc = load_model(model)
    texts = [f"Client {i} asks question number {i} about embeddings and vectors." for i in range(n)]
    enc.embed(texts[:4])
    start = time.perf_counter()
    for t in texts:
        enc.embed([t])
    single = n / (time.perf_counter() - start)
    start = time.perf_counter()
    enc.embed(texts)
    return single, n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--rounds", type=int, default=1, help="alternate off/on this many times")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--batching", default="on", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.batching == "on", args.model)
        return
    print(f"/v1/embeddings, {args.clients} concurrent clients, one sentence per request, "
          f"{args.seconds:.0f} s each, model {args.model}")  # fmt: skip
    runs: dict[bool, list[Result]] = {False: [], True: []}
    for _ in range(args.rounds):  # alternate, so a load swing on the shared machine hits both
        for batching in (False, True):
            runs[batching].append(run_one(batching, args))
    results = [_merge(runs[False]), _merge(runs[True])]
    print(f"{'server':<24}{'req/s':>9}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'encodes':>9}")
    for r in results:
        print(
            f"{r.label:<24}{r.rps:>9.1f}{r.pct(50):>10.1f}{r.pct(99):>10.1f}{r.errors:>8}{r.encoder_calls:>9}"
        )
    off, on = results
    single, batch = model_ceiling(args.model)
    print(f"model alone, one torch thread: {single:.1f} sentences/s one by one, {batch:.1f}/s "
          f"in one batch of 32 (x{batch / single:.2f}: the most batching can win)")  # fmt: skip
    print(f"batched / unbatched: throughput x{on.rps / off.rps:.2f}, "
          f"p50 x{on.pct(50) / off.pct(50):.2f}, p99 x{on.pct(99) / off.pct(99):.2f} "
          f"(target: throughput >= 3x at a lower p99); "
          f"mean requests per encode when batched: {on.requests / max(on.encoder_calls, 1):.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
