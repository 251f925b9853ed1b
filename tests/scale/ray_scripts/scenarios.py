"""Ray scenarios for tests/scale/test_ray.py, run inside a network namespace beside a Ray
cluster (a head and one worker on 127.0.0.1).

usage: python scenarios.py ADDRESS CORPUS_DIR OUT_DIR

EMBEDLAB_HOME is the test's; indexes are left there for the test to search. Writes
OUT_DIR/result.json and OUT_DIR/*.npy; each scenario records its error instead of stopping
the others.

Each pool start loads the model once per actor (13-19 s on the shared cores), so the
scenarios share one pool where they do not test a pool of their own: ``SHARED`` (two
actors, the cluster's two CPUs) serves the vectors scenario, the ``--ray`` commands (the
CLI's ``on_ray`` hands each a view of it with the batch size it asked for; the calls are
recorded for the tests) and the update after Ctrl-C. Ray Data's pool, the dying actors and
the interrupted driver start their own, before ``SHARED`` takes both CPUs.
"""

from __future__ import annotations

import copy
import gc
import json
import os
import socket
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from embedlab.errors import RayClusterError
from embedlab.models.base import Encoder
from embedlab.models.ray_pool import EncoderActor, RayEncoder, embed_dataset

ADDRESS, CORPUS, OUT = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
#: a chunk of the corpus that contains this dies the actor that embeds it, once.
MARK = os.environ.get("EMBEDLAB_TEST_DIE_ON", "Kneading builds gluten")
FLAG = OUT / "actor-died"


class DiesOnce(EncoderActor):
    """Exits its process (no clean-up, like a killed worker) on the first batch that holds
    MARK; the flag file makes it once across restarts."""

    def embed(self, texts: list[str], role: str) -> np.ndarray:
        if any(MARK in t for t in texts) and not FLAG.exists():
            FLAG.write_text(str(os.getpid()))
            os._exit(1)
        return super().embed(texts, role)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


result: dict[str, object] = {}


def scenario(name: str):  # type: ignore[no-untyped-def]
    def wrap(fn):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            result[name] = fn()
        except BaseException as exc:  # noqa: BLE001 - recorded for the test to show
            result[name] = {
                "error": f"{type(exc).__name__}: {exc}",
                "trace": traceback.format_exc(),
            }
        result[f"{name}_seconds"] = round(time.perf_counter() - t0, 2)
        return fn

    return wrap


@scenario("unreachable")
def _unreachable() -> dict[str, object]:
    addr = f"127.0.0.1:{free_port()}"
    t0 = time.perf_counter()
    try:
        RayEncoder("minilm", addr).embed(["anything"])
    except RayClusterError as exc:
        return {"address": addr, "message": str(exc), "seconds": time.perf_counter() - t0}
    return {"address": addr, "message": None}


TEXTS = json.loads((OUT / "texts.json").read_text())


@scenario("ray_data")
def _ray_data() -> dict[str, object]:
    """Ray Data's own actor pool (``map_batches``): one actor, one model load."""
    np.save(OUT / "ray_data.npy", embed_dataset(TEXTS, "minilm", ADDRESS, batch_size=9, actors=1))
    return {}


@scenario("actor_dies")
def _actor_dies() -> dict[str, object]:
    from embedlab.stores import create_index

    enc = RayEncoder("minilm", ADDRESS, batch_size=4, actors=2, actor_class=DiesOnce)
    index = create_index("dying", [CORPUS], enc)
    out = {"chunks": len(index), "died_pid": FLAG.read_text() if FLAG.exists() else None,
           "embedded": enc.embedded}  # fmt: skip
    enc.close()  # its two actors hold the cluster's two CPUs
    return out


#: the pool the other scenarios share (started after the ones that need their own).
SHARED: list[RayEncoder] = []
#: (model, address, batch size, actors) of each ``on_ray`` call the CLI made.
ON_RAY: list[dict[str, object]] = []


def shared(batch_size: int) -> RayEncoder:
    """A view of the shared two-actor pool that cuts batches of ``batch_size``."""
    if not SHARED:
        SHARED.append(RayEncoder("minilm", ADDRESS, batch_size=7, actors=2).start())
    view = copy.copy(SHARED[0])  # the same actors (started: the view never starts its own)
    view.batch_size, view.embedded, view.seconds = batch_size, 0, 0.0
    return view


def on_ray(
    model: str | Encoder, address: str | None, *, batch_size: int = 64, actors: int = 2
) -> str | Encoder:
    """What the CLI's ``--ray`` calls here: the call is recorded, and the shared pool serves
    it (it holds the model the scenarios ask for, on this cluster)."""
    name = model if isinstance(model, str) else model.info.name
    ON_RAY.append({"model": name, "address": address, "batch_size": batch_size,
                   "actors": actors})  # fmt: skip
    if address is None:
        return model
    if address != ADDRESS or name != "minilm":
        raise AssertionError(f"the shared pool holds minilm at {ADDRESS}, not {name} at {address}")
    return shared(batch_size)


def _patch_cli() -> None:
    import embedlab.cli.eval_cmd
    import embedlab.cli.index_cmd

    embedlab.cli.index_cmd.on_ray = on_ray  # type: ignore[assignment]
    embedlab.cli.eval_cmd.on_ray = on_ray  # type: ignore[assignment]


_patch_cli()


def calls_since(n: int) -> list[dict[str, object]]:
    return ON_RAY[n:]


@scenario("ctrl_c")
def _ctrl_c() -> dict[str, object]:
    """SIGINT to a driver in the middle of a Ray run, then ``update`` resumes."""
    import signal
    import subprocess

    from embedlab.stores import open_index, update_index

    files = CORPUS.parent / "one-per-file"
    files.mkdir(exist_ok=True)
    for i, text in enumerate(TEXTS):
        (files / f"doc{i:03d}.txt").write_text(text + "\n")
    driver = Path(__file__).with_name("interrupt_driver.py")
    proc = subprocess.Popen([sys.executable, str(driver), ADDRESS, str(files)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    committed = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            index = open_index("interrupted")
            committed = len(index.documents())
            index.close()
        except Exception:  # noqa: BLE001 - not created yet
            continue
        if committed:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)  # its actor ends with it: a CPU for SHARED
    index = open_index("interrupted")
    docs_after_interrupt = len(index.documents())
    index.close()
    report = update_index("interrupted", shared(8))
    index = open_index("interrupted")
    out = {"exit": proc.returncode, "stderr_tail": err[-600:], "seen_committed": committed,
           "docs_after_interrupt": docs_after_interrupt, "files": len(TEXTS),
           "update_indexed": report.files_indexed, "docs_final": len(index.documents()),
           "chunks_final": len(index)}  # fmt: skip
    index.close()
    return out


@scenario("vectors")
def _vectors() -> dict[str, object]:
    enc = shared(7)
    docs = enc.embed(TEXTS, role="document")
    queries = enc.embed(TEXTS[:5], role="query")
    pids = sorted({int(p) for p in __import__("ray").get([a.pid.remote() for a in enc._actors])})
    np.save(OUT / "ray_docs.npy", docs)
    np.save(OUT / "ray_queries.npy", queries)
    return {"fingerprint": enc.info.fingerprint, "actor_pids": pids, "embedded": enc.embedded}


@scenario("cli_create")
def _cli_create() -> dict[str, object]:
    from click.testing import CliRunner

    from embedlab.cli.main import cli

    n = len(ON_RAY)
    args = ["index", "create", "viaray", str(CORPUS), "--ray", ADDRESS, "--ray-batch", "8",
            "--ray-actors", "2", "--json"]  # fmt: skip
    r = CliRunner().invoke(cli, args)
    gc.collect()
    return {"exit": r.exit_code, "output": r.output[-2000:], "on_ray": calls_since(n)}


@scenario("eval_retrieval")
def _eval_retrieval() -> dict[str, object]:
    """``eval retrieval DATASET --ray``: the grid's dense row from vectors made on the cluster
    (``--no-cache``: nothing read from the embedding cache)."""
    from click.testing import CliRunner

    from embedlab.cli.main import cli

    data = OUT / "news5"
    run = CliRunner()
    made = run.invoke(cli, ["eval", "make", "--news", str(data), "--limit", "5"])
    if made.exit_code != 0:
        return {"error": f"eval make failed: {made.output[-1500:]}"}
    n = len(ON_RAY)
    r = run.invoke(cli, ["eval", "retrieval", str(data), "-m", "minilm", "--modes", "dense",
                         "--no-cache", "--ray", ADDRESS, "--ray-actors", "1", "--json"])  # fmt: skip
    gc.collect()
    return {"exit": r.exit_code, "output": r.output[-3000:], "stdout": r.stdout,
            "dataset": str(data), "on_ray": calls_since(n)}  # fmt: skip


#: the searches compared with an index built in-process (tests/scale/test_ray.py).
QUERIES = ["how long should tomato sauce simmer", "why does dough rest", "planets and orbits"]


@scenario("milvus")
def _milvus() -> dict[str, object]:
    """``index create --store milvus://... --ray``: a Milvus Lite server in this namespace,
    the index built through Ray into it, searched, updated through Ray, dropped."""
    import signal
    import subprocess

    from click.testing import CliRunner
    from pymilvus import MilvusClient

    from embedlab.cli.main import cli

    exe = Path(sys.executable).with_name("milvus-lite")
    if not exe.exists():
        return {"skipped": f"{exe} is not installed (pip install 'embedlab[scale]')"}
    port = free_port()
    store = f"milvus://127.0.0.1:{port}"
    with open(OUT / "milvus.log", "wb") as log:
        proc = subprocess.Popen([str(exe), "server", "--data-dir", str(OUT / "milvus"), "--host",
                                 "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=2)
                client.list_collections(timeout=2)
                client.close()
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError((OUT / "milvus.log").read_text()[-1500:]) from None
                time.sleep(0.3)
        run = CliRunner()
        n = len(ON_RAY)
        made = run.invoke(cli, ["index", "create", "ray_m", str(CORPUS), "--store", store,
                                "--ray", ADDRESS, "--ray-batch", "8", "--ray-actors", "1", "-q"])  # fmt: skip
        gc.collect()
        tops = {}
        for q in QUERIES:
            r = run.invoke(cli, ["search", "ray_m", q, "-k", "10", "--mode", "dense", "--json"])
            tops[q] = (
                [h["chunk"]["text"] for h in json.loads(r.stdout)["hits"]]
                if r.exit_code == 0
                else r.output
            )
        updated = run.invoke(cli, ["index", "update", "ray_m", "--ray", ADDRESS, "-q"])
        run.invoke(cli, ["index", "drop", "ray_m"])
        return {"exit": made.exit_code, "output": made.output[-1500:], "tops": tops,
                "update_exit": updated.exit_code, "update_output": updated.output[-1500:],
                "on_ray": calls_since(n)}  # fmt: skip
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if SHARED:
    SHARED[0].close()
(OUT / "result.json").write_text(json.dumps(result, indent=1))
