"""Fixtures of the scale tests: a real Milvus Lite gRPC server on 127.0.0.1, started once per
session by the ``milvus-lite`` command the scale extra installs, and stopped at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: seconds the server gets to answer its first call.
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _milvus_lite() -> str:
    exe = Path(sys.executable).with_name("milvus-lite")
    if not exe.exists():
        pytest.skip("milvus-lite is not installed (pip install 'embedlab[scale]')")
    return str(exe)


def wait_ready(uri: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll the server with real client calls until it answers, within START_TIMEOUT."""
    from pymilvus import MilvusClient

    deadline = time.monotonic() + START_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"milvus-lite exited with {proc.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            client = MilvusClient(uri=uri, timeout=2)
            client.list_collections(timeout=2)
            client.close()
            return
        except Exception as exc:  # noqa: BLE001 - not up yet
            last = str(exc)[:200]
        time.sleep(0.2)
    raise RuntimeError(f"milvus-lite did not answer within {START_TIMEOUT} s ({last})")


@pytest.fixture(scope="session")
def milvus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Milvus Lite server on a free loopback port; yields its ``milvus://`` URI."""
    folder = tmp_path_factory.mktemp("milvus")
    port = free_port()
    log = folder / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [_milvus_lite(), "server", "--data-dir", str(folder / "data"),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc, log)
        yield f"milvus://127.0.0.1:{port}"
    finally:
        from embedlab.stores.milvus_client import forget_client

        forget_client(f"milvus://127.0.0.1:{port}")
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def drop_indexes(store: str, embedded: tuple[str, ...] = ()) -> None:
    """Drop every embedlab index in ``store`` (and the named embedded ones), so the tests
    that run after these do not see them in index lists."""
    from embedlab.stores import drop_index
    from embedlab.stores.milvus_writer import drop_milvus, milvus_indexes

    for name, _coll in milvus_indexes(store):
        drop_milvus(name, store)
    for name in embedded:
        with contextlib.suppress(Exception):  # already gone
            drop_index(name)
