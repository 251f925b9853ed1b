"""The real Milvus 2.3.5 (PyPI ``milvus``; optional): one vector field, no BM25 function.

It binds every interface, so server and client run together in a network namespace with
loopback alone (``unshare -n``, root here). Skipped where the package is missing (set
``EMBEDLAB_MILVUS_235`` to a ``pip install --target`` folder of ``milvus==2.3.5``) or the
namespace cannot be made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("milvus_scripts") / "check_235.py"


def test_milvus_235_dense_path_and_fallbacks() -> None:
    folder = os.environ.get("EMBEDLAB_MILVUS_235", "")
    if not (folder and (Path(folder) / "milvus").is_dir()) and find_spec("milvus") is None:
        pytest.skip("milvus==2.3.5 is not installed (optional; see the module docstring)")
    if (
        shutil.which("unshare") is None
        or subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode
    ):
        pytest.skip("cannot make a network namespace here (unshare -n)")
    root = Path(__file__).resolve().parents[2]
    cmd = f"ip link set lo up && exec {sys.executable} {SCRIPT} '{folder}'"
    r = subprocess.run(
        ["unshare", "-n", "bash", "-c", cmd], capture_output=True, text=True, timeout=480,
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    lines = [x for x in r.stdout.splitlines() if x.startswith(("OK", "FAIL"))]
    assert r.returncode == 0, (lines, r.stderr[-2000:])
    assert len(lines) == 6 and all(x.startswith("OK") for x in lines), lines
