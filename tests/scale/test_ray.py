"""Embedding on a real Ray cluster (a head and one worker on loopback), issue 18.

Ray's GCS and raylet listen on every interface whatever ``--node-ip-address`` says, so the
cluster and its client run together inside a network namespace that has loopback alone
(``unshare -n``, then ``ip link set lo up``). One namespace per module runs every scenario
(``ray_scripts/scenarios.py``) and writes its results to files; the tests check them here
against the in-process model. The scenarios share one pool of two encoder actors where they
do not test a pool of their own (each pool start loads the model once per actor); the
``--ray`` commands get it through the CLI's ``on_ray``, whose calls are checked here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.models.base import Encoder
from embedlab.stores import create_index, open_index
from tests.conftest import in_ci

pytest.importorskip("ray", reason="Ray is in the scale extra: pip install 'embedlab[scale]'")

SCRIPTS = Path(__file__).parent / "ray_scripts"
DEMO = Path(__file__).parents[2] / "src" / "embedlab" / "data" / "demo" / "demo.jsonl"
BIN = Path(sys.executable).parent
#: the indexes these tests make (dropped at the end).
MADE = ("viaray", "dying", "inprocess", "interrupted")
QUERIES = ["how long should tomato sauce simmer", "why does dough rest", "planets and orbits"]


def _unshare_refused() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip is not installed"
    probe = subprocess.run(
        ["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return f"unshare -n is not permitted here ({probe.stderr.strip() or probe.returncode})"
    return None


@pytest.fixture(scope="module")
def ray_run(
    tmp_path_factory: pytest.TempPathFactory, embedlab_home: Path
) -> Iterator[dict[str, Any]]:
    """Start a head and a worker in a fresh network namespace, run every scenario against
    them, stop the cluster; return the scenarios' results (and where their files are)."""
    why = _unshare_refused()
    if why is not None:
        if in_ci():
            pytest.fail(f"{why}; CI is set, so the Ray tests must run, not skip.", pytrace=False)
        pytest.skip(f"{why}: the Ray tests need a network namespace (with CI set: an error).")
    out = tmp_path_factory.mktemp("ray-out")
    corpus = tmp_path_factory.mktemp("ray-corpus")
    shutil.copy(DEMO, corpus / "demo.jsonl")
    texts = [json.loads(line)["text"] for line in DEMO.read_text().splitlines() if line.strip()]
    (out / "texts.json").write_text(json.dumps(texts))
    ray, py = shlex.quote(str(BIN / "ray")), shlex.quote(sys.executable)
    # The namespace has its own ports, but Ray refuses to start a head whose address a GCS
    # process anywhere on the machine already serves (it reads the shared process table and
    # the temp dir's address file): a port no one holds and a temp dir of this run's own
    # keep two runs at once (CI beside a developer's run) apart.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ray_tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths < 108
    addr = f"127.0.0.1:{port}"
    script = shlex.quote(str(SCRIPTS / "scenarios.py"))
    inner = (
        f"ip link set lo up && "
        f"{ray} start --head --node-ip-address 127.0.0.1 --port {port} --num-cpus 1 "
        f"--include-dashboard=false --disable-usage-stats > {out}/head.log 2>&1 && "
        f"{ray} start --address {addr} --node-ip-address 127.0.0.1 --num-cpus 1 "
        f"> {out}/worker.log 2>&1 && "
        f"timeout 200 {py} {script} {addr} {shlex.quote(str(corpus))} {shlex.quote(str(out))}; "
        f"rc=$?; {ray} stop --force > /dev/null 2>&1; exit $rc"
    )
    env = {**os.environ, "EMBEDLAB_HOME": str(embedlab_home), "RAY_USAGE_STATS_ENABLED": "0",
           "RAY_TMPDIR": ray_tmp}  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2]), env.get("PYTHONPATH", "")])
    proc = subprocess.run(["unshare", "-n", "sh", "-c", inner], capture_output=True, text=True,
                          env=env, timeout=300)  # fmt: skip
    shutil.rmtree(ray_tmp, ignore_errors=True)
    result_file = out / "result.json"
    if not result_file.exists():
        logs = "".join((out / f).read_text()[-1500:] for f in ("head.log", "worker.log")
                       if (out / f).exists())  # fmt: skip
        pytest.fail(f"the Ray scenarios wrote nothing (exit {proc.returncode}):\n"
                    f"{proc.stderr[-3000:]}\n{logs}")  # fmt: skip
    result = json.loads(result_file.read_text())
    yield {"result": result, "out": out, "corpus": corpus, "texts": texts, "address": addr}
    from embedlab.stores import drop_index

    for name in MADE:  # later tests list indexes: leave none of ours
        with contextlib.suppress(Exception):
            drop_index(name)


def _ok(run: dict[str, Any], name: str) -> Any:
    value = run["result"][name]
    if isinstance(value, dict) and "error" in value:
        pytest.fail(f"scenario {name} failed: {value['error']}\n{value.get('trace', '')}")
    return value


def _on_ray(run: dict[str, Any], *, batch_size: int, actors: int) -> dict[str, Any]:
    """An ``on_ray`` call of the CLI, as the scenarios record it."""
    return {"model": "minilm", "address": run["address"], "batch_size": batch_size,
            "actors": actors}  # fmt: skip


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def test_vectors_from_the_cluster_equal_in_process_ones(
    ray_run: dict[str, Any], minilm: Encoder
) -> None:
    info = _ok(ray_run, "vectors")
    _ok(ray_run, "ray_data")  # Ray Data's map_batches pool wrote ray_data.npy
    texts, out = ray_run["texts"], ray_run["out"]
    assert info["fingerprint"] == minilm.info.fingerprint
    assert len(info["actor_pids"]) == 2  # two actors, each its own process
    assert info["embedded"] == len(texts) + 5
    local_docs = minilm.embed(texts, role="document")
    local_queries = minilm.embed(texts[:5], role="query")
    for name, local in (("ray_docs", local_docs), ("ray_data", local_docs),
                        ("ray_queries", local_queries)):  # fmt: skip
        remote = np.load(out / f"{name}.npy")
        assert remote.shape == local.shape, name
        assert remote.dtype == np.float32
        assert _cosines(remote, local).min() > 0.9999, name


def _local_index(ray_run: dict[str, Any], minilm: Encoder) -> str:
    if not (Path(os.environ["EMBEDLAB_HOME"]) / "indexes" / "inprocess").exists():
        try:
            open_index("inprocess")
        except Exception:  # noqa: BLE001 - not built yet
            create_index("inprocess", [ray_run["corpus"]], minilm)
    return "inprocess"


def _by_text(name: str) -> dict[str, np.ndarray]:
    index = open_index(name)
    try:
        return dict(zip(index.texts(), np.asarray(index.vectors()), strict=True))
    finally:
        index.close()


def _top(name: str, query: str) -> list[tuple[str, float]]:
    r = CliRunner().invoke(cli, ["search", name, query, "-k", "10", "--json"])
    assert r.exit_code == 0, r.output
    return [(h["chunk"]["text"], float(h["score"])) for h in json.loads(r.stdout)["hits"]]


def test_index_built_through_ray_answers_search_like_an_in_process_one(
    ray_run: dict[str, Any], minilm: Encoder
) -> None:
    made = _ok(ray_run, "cli_create")
    assert made["exit"] == 0, made["output"]
    assert made["on_ray"] == [_on_ray(ray_run, batch_size=8, actors=2)]  # the flags, passed on
    local = _local_index(ray_run, minilm)
    assert open_index("viaray").fingerprint == open_index(local).fingerprint
    remote_vecs, local_vecs = _by_text("viaray"), _by_text(local)
    assert remote_vecs.keys() == local_vecs.keys()
    keys = sorted(local_vecs)
    cos = _cosines(
        np.stack([remote_vecs[k] for k in keys]), np.stack([local_vecs[k] for k in keys])
    )
    assert cos.min() > 0.9999
    for q in QUERIES:
        got, want = _top("viaray", q), _top(local, q)
        assert [t for t, _ in got] == [t for t, _ in want], q
        assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-4)


def test_unreachable_address_fails_fast_and_names_it(ray_run: dict[str, Any]) -> None:
    info = _ok(ray_run, "unreachable")
    assert info["message"] is not None, "no error for an address nobody listens on"
    assert info["address"] in info["message"]
    assert "unreachable" in info["message"] and "refused" in info["message"].lower()
    assert info["seconds"] < 10


def test_an_actor_that_dies_mid_run_leaves_a_complete_index(
    ray_run: dict[str, Any], minilm: Encoder
) -> None:
    info = _ok(ray_run, "actor_dies")
    assert info["died_pid"], "the marked batch never reached an actor: the test proved nothing"
    local = _local_index(ray_run, minilm)
    remote_vecs, local_vecs = _by_text("dying"), _by_text(local)
    assert remote_vecs.keys() == local_vecs.keys()
    assert info["chunks"] == len(local_vecs)
    keys = sorted(local_vecs)
    cos = _cosines(
        np.stack([remote_vecs[k] for k in keys]), np.stack([local_vecs[k] for k in keys])
    )
    assert cos.min() > 0.9999
    r = CliRunner().invoke(cli, ["index", "check", "dying"])
    assert r.exit_code == 0, r.output


def test_ctrl_c_during_a_ray_run_keeps_what_was_committed_and_update_resumes(
    ray_run: dict[str, Any], minilm: Encoder
) -> None:
    info = _ok(ray_run, "ctrl_c")
    assert info["exit"] != 0, "the driver finished before Ctrl-C: the test proved nothing"
    assert "KeyboardInterrupt" in info["stderr_tail"]
    # what was committed before Ctrl-C stays; the rest is left to update
    assert 0 < info["seen_committed"] <= info["docs_after_interrupt"] < info["files"]
    assert info["update_indexed"] == info["files"] - info["docs_after_interrupt"]
    assert info["docs_final"] == info["files"] and info["chunks_final"] == info["files"]
    r = CliRunner().invoke(cli, ["index", "check", "interrupted"])
    assert r.exit_code == 0, r.output
    vecs = _by_text("interrupted")
    keys = sorted(vecs)
    local = minilm.embed(keys, role="document")
    assert _cosines(np.stack([vecs[k] for k in keys]), local).min() > 0.9999


def test_an_index_built_through_ray_into_milvus_answers_search(
    ray_run: dict[str, Any], minilm: Encoder
) -> None:
    info = _ok(ray_run, "milvus")
    if "skipped" in info:
        if in_ci():
            pytest.fail(info["skipped"], pytrace=False)
        pytest.skip(info["skipped"])
    assert info["exit"] == 0, info["output"]
    assert info["on_ray"] == [  # create --ray-batch 8 --ray-actors 1; update: the defaults
        _on_ray(ray_run, batch_size=8, actors=1),
        _on_ray(ray_run, batch_size=64, actors=2),
    ]
    local = _local_index(ray_run, minilm)
    for q in QUERIES:
        r = CliRunner().invoke(cli, ["search", local, q, "-k", "10", "--mode", "dense", "--json"])
        want = [h["chunk"]["text"] for h in json.loads(r.stdout)["hits"]]
        assert info["tops"][q] == want, q
    assert info["update_exit"] == 0, info["update_output"]
    assert "0 file(s) indexed, 1 unchanged" in info["update_output"]


def test_cli_names_an_unreachable_ray_address_before_loading_the_model(tmp_path: Path) -> None:
    """No cluster needed: nothing listens on a port just freed (refused at once)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "a.txt").write_text("a few words to index\n")
    r = CliRunner().invoke(
        cli, ["index", "create", "never", str(tmp_path), "--ray", f"127.0.0.1:{port}", "-q"]
    )
    assert r.exit_code != 0
    assert f"Ray cluster at '127.0.0.1:{port}' is unreachable" in r.output
    assert "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["index", "create", "never", str(tmp_path), "--ray", "x:1",
                                 "--ray-actors", "0"])  # fmt: skip
    assert r.exit_code == 2 and "--ray-actors" in r.output


def test_eval_retrieval_through_ray_scores_like_in_process(ray_run: dict[str, Any]) -> None:
    info = _ok(ray_run, "eval_retrieval")
    assert info["exit"] == 0, info["output"]
    assert info["on_ray"] == [_on_ray(ray_run, batch_size=64, actors=1)]
    remote = json.loads(info["stdout"])
    r = CliRunner().invoke(cli, ["eval", "retrieval", info["dataset"], "-m", "minilm", "--modes",
                                 "dense", "--no-cache", "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    local = json.loads(r.stdout)
    assert len(remote["rows"]) == len(local["rows"]) == 1
    for key, value in local["rows"][0].items():
        if isinstance(value, float) and not key.endswith(("_ms", "ms")):
            assert remote["rows"][0][key] == pytest.approx(value, abs=1e-6), key
