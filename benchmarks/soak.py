"""Soak test: 32 clients for a few minutes of mixed valid and invalid requests.

Starts the real app under uvicorn on 127.0.0.1 in its own process, then runs ``--clients``
async httpx clients for ``--seconds``; each loops over a fixed mix of requests to the
embedding APIs (OpenAI and Ollama shapes), similarity, search (the demo index) and maps
(the demo index, then cached), half of them invalid on purpose (malformed JSON, wrong
types, empty input, a path as a model or a map source, too many texts, an unknown index, a
foreign Host, a cross-site POST). Reports:

- answers by status; 5xx answers (must be 0) and lost responses (a request that got no
  answer: connection error or timeout; must be 0);
- answers that were not what the request deserved (a valid request not 200, or 429 for a
  map while the long-job slots are taken; an invalid one not 4xx);
- the server's RSS at the start of the soak (after warm-up) and at the end, and their ratio.

    .venv/bin/python benchmarks/soak.py [--seconds 180] [--clients 32]

Loopback only; every loop is bounded by the deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

#: the bound on the server's RSS growth over the soak (end / start).
RSS_BOUND = 1.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int) -> None:
    """Child process: the web app under uvicorn, as 'embedlab serve' runs it."""
    import uvicorn

    from embedlab.server.app import create_app
    from embedlab.server.config import ServerConfig
    from embedlab.server.models import configure_threads

    configure_threads()
    app = create_app(["minilm"], config=ServerConfig(port=port))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=60)


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (from /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@dataclass(frozen=True)
class Call:
    """One request of the mix and whether it is valid (200 expected) or not (4xx)."""

    name: str
    method: str
    path: str
    valid: bool
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def mix(i: int) -> list[Call]:
    """The requests client ``i`` cycles through (its texts vary with ``i``)."""
    text = f"Client {i} wonders how embeddings place similar sentences close together."
    return [
        Call("openai embed", "POST", "/v1/embeddings", True, {"input": [text, "a cat"]}),
        Call("ollama embed", "POST", "/api/embed", True, {"model": "minilm", "input": text}),
        Call("similarity", "POST", "/lab/similarity", True, {"a": text, "b": "vectors"}),
        Call("search", "POST", "/lab/search", True, {"index": "demo", "query": text, "k": 5}),
        Call("map", "POST", "/lab/maps", True, {"source": "demo", "method": "pca"}),
        Call("malformed json", "POST", "/v1/embeddings", False, content=b'{"input": "x",'),
        Call("wrong type", "POST", "/api/embed", False, {"input": 42}),
        Call("empty input", "POST", "/v1/embeddings", False, {"input": ""}),
        Call("path as model", "POST", "/v1/embeddings", False, {"input": "x", "model": "st:/etc"}),
        Call("file as map", "POST", "/lab/maps", False, {"source": "/etc/hostname"}),
        Call("too many texts", "POST", "/v1/embeddings", False, {"input": ["x"] * 300}),
        Call("unknown index", "POST", "/lab/search", False, {"index": "nope", "query": "x"}),
        Call("foreign host", "GET", "/health", False, headers={"host": "evil.example"}),
        Call(
            "cross-site post",
            "POST",
            "/lab/similarity",
            False,
            {"a": "x", "b": "y"},
            headers={"origin": "http://evil.example"},
        ),  # fmt: skip
    ]


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    requests: int = 0


async def _client(c: httpx.AsyncClient, i: int, stop: float, tally: Tally) -> None:
    calls = mix(i)
    n = i  # clients start at different points of the mix
    while time.perf_counter() < stop:
        call = calls[n % len(calls)]
        n += 1
        tally.requests += 1
        try:
            r = await c.request(
                call.method, call.path, json=call.json, content=call.content, headers=call.headers
            )
        except httpx.HTTPError as exc:
            tally.lost[f"{call.name}: {type(exc).__name__}"] += 1
            continue
        tally.statuses[r.status_code] += 1
        # a valid long job may find every slot taken: 429 is its right answer under load
        ok = r.status_code in (200, 429) if call.valid else 400 <= r.status_code < 500
        if not ok:
            tally.wrong[f"{call.name} -> {r.status_code}"] += 1


async def soak(base: str, pid: int, clients: int, seconds: float) -> tuple[Tally, float, float]:
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as c:
        valid = mix(0)[:5]
        for call in [valid[4], *valid[:4]]:  # warm-up: the map builds the demo index first
            r = await c.request(call.method, call.path, json=call.json)
            if r.status_code != 200:
                raise RuntimeError(f"warm-up {call.name} answered {r.status_code}: {r.text[:300]}")
        start_rss = rss_mb(pid)
        tally = Tally()
        stop = time.perf_counter() + seconds
        await asyncio.gather(*[_client(c, i, stop, tally) for i in range(clients)])
    return tally, start_rss, rss_mb(pid)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve)
        return
    port = _free_port()
    env = dict(
        os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false"
    )
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env)
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
        started = time.perf_counter()
        tally, rss0, rss1 = asyncio.run(soak(base, proc.pid, args.clients, args.seconds))
        took = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    answered = sum(tally.statuses.values())
    errors_5xx = sum(n for s, n in tally.statuses.items() if s >= 500)
    lost = sum(tally.lost.values())
    print(f"soak: {args.clients} clients, {args.seconds:.0f} s, mixed valid/invalid requests")
    print(f"requests {tally.requests}, answered {answered} ({answered / took:.1f}/s), "
          f"lost {lost}, 5xx {errors_5xx}")  # fmt: skip
    print("statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items())))
    if tally.wrong:
        print("unexpected answers: " + ", ".join(f"{k}: {n}" for k, n in tally.wrong.items()))
    if tally.lost:
        print("lost: " + ", ".join(f"{k}: {n}" for k, n in tally.lost.items()))
    ratio = rss1 / rss0
    print(f"server RSS: {rss0:.0f} MB at the start, {rss1:.0f} MB at the end, "
          f"x{ratio:.3f} (bound x{RSS_BOUND})")  # fmt: skip
    ok = errors_5xx == 0 and lost == 0 and not tally.wrong and ratio <= RSS_BOUND
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
