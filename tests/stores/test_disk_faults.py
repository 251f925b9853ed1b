"""A read-only home and a full disk (issue 12), on real file systems where this machine
allows it: each real test runs embedlab in a child process inside its own mount namespace
(``unshare -m``, needs root), so the read-only bind mount or the 2 MB tmpfs is seen by that
child only. Where namespaces are not allowed they skip; the simulated full-disk test below
(``write_segment`` patched to raise ENOSPC) runs everywhere.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embedlab.errors import DiskFullError
from embedlab.models import Encoder
from embedlab.stores import check_index, create_index, open_index, survey_indexes, update_index
from embedlab.stores.embedded import SEGMENTS, index_folder

TEXTS = {
    "cats.txt": "Cats sleep for most of the day and wake up hungry.",
    "rockets.txt": "Rockets burn fuel to climb out of the atmosphere and reach orbit.",
}
MORE = {
    "bread.txt": "Bread dough rises when the yeast has had time to work.",
    "rivers.txt": "A river carries sand from the mountains down to the sea.",
}

#: every read command on a read-only home, then the writes (which must be refused clearly).
READ_ONLY = """
import json, sys
from click.testing import CliRunner
from embedlab.cli.main import cli
name, src = sys.argv[1], sys.argv[2]
runs = {
    "list": ["index", "list"],
    "info": ["index", "info", name],
    "check": ["index", "check", name],
    "search": ["search", name, "rockets into orbit", "--mode", "hybrid"],
    "update": ["index", "update", name, "-q"],
    "drop": ["index", "drop", name],
    "create": ["index", "create", "other", src, "-q"],
}
out = {}
for key, args in runs.items():
    res = CliRunner().invoke(cli, args)
    out[key] = [res.exit_code, res.output]
print("RESULT" + json.dumps(out))
"""

#: an index on a 2 MB tmpfs; the disk is then filled to the last byte and written to.
FULL_DISK = """
import errno, json, os, shutil, sys
from pathlib import Path
import numpy as np
from click.testing import CliRunner
from embedlab.cli.main import cli
from embedlab.models import load_model
from embedlab.stores import check_index, create_index, open_index, survey_indexes, update_index
home, src, more = Path(os.environ["EMBEDLAB_HOME"]), Path(sys.argv[1]), Path(sys.argv[2])
encoder = load_model(sys.argv[3])
a = create_index("a", [src], encoder)
before = (a.generation, a.chunk_ids().tolist(), np.array(a.vectors()).tolist())
fd = os.open(home / "filler", os.O_WRONLY | os.O_CREAT)
for size in (1 << 16, 4096, 512, 1):
    try:
        while True:
            os.write(fd, b"x" * size)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
os.close(fd)
for p in more.iterdir():
    shutil.copy(p, src / p.name)
out = {}
res = CliRunner().invoke(cli, ["index", "update", "a", "-q"])
out["update"] = [res.exit_code, res.output]
again = open_index("a")
after = (again.generation, again.chunk_ids().tolist(), np.array(again.vectors()).tolist())
out["unchanged"] = after == before
out["check"] = check_index("a").problems
res = CliRunner().invoke(cli, ["index", "create", "b", str(more), "-q", "--model", sys.argv[3]])
out["create"] = [res.exit_code, res.output]
out["listed"] = [e.name for e in survey_indexes()]
out["b_left"] = (home / "indexes" / "b").exists()
out["tmp_left"] = [p.name for p in (home / "indexes" / "a" / "segments").iterdir() if p.name.startswith(".")]
os.unlink(home / "filler")
report = update_index("a", encoder)
out["after_room"] = [report.files_indexed, len(open_index("a")), check_index("a").ok]
print("RESULT" + json.dumps(out))
"""


@functools.cache
def _namespaces() -> str:
    """'' when this process may make private mounts (``unshare -m``), else why not."""
    if not shutil.which("unshare"):
        return "no unshare"
    probe = "mount -t tmpfs -o size=64k none /mnt && mount -o remount,ro /mnt"
    try:
        res = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", probe],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return "" if res.returncode == 0 else res.stderr.decode(errors="replace").strip()


def _in_namespace(setup: str, script: str, args: list[str], home: Path) -> dict[str, Any]:
    """Run ``script`` in a child with its own mounts, after ``setup`` (sh) made them."""
    env = {**os.environ, "EMBEDLAB_HOME": str(home), "PYTHONPATH": os.getcwd() + "/src"}
    cmd = f'{setup} && s="$1" && shift && exec "$0" -c "$s" "$@"'
    res = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", cmd, sys.executable, script]
        + args,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT")][-1]
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT"))
    return result


def _write(folder: Path, texts: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_read_only_home_serves_every_read_command(
    glove: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if why := _namespaces():
        pytest.skip(f"private mounts are not allowed here ({why})")
    home = tmp_path / "home"
    monkeypatch.setenv("EMBEDLAB_HOME", str(home))
    src = _write(tmp_path / "src", TEXTS)
    create_index("ro", [src], glove).close()  # GloVe: the child loads it in a second
    q = f'"{home}"'
    out = _in_namespace(
        f"mount --bind {q} {q} && mount -o remount,bind,ro {q} {q}",
        READ_ONLY,
        ["ro", str(src)],
        home,
    )
    for key in ("list", "info", "check", "search"):
        code, text = out[key]
        assert code == 0 and "Traceback" not in text, (key, text)
    assert "ro " in out["list"][1] and glove.info.name in out["list"][1]
    assert out["check"][1].rstrip().endswith("OK")
    assert "Rockets burn fuel" in out["search"][1]
    for key in ("update", "drop", "create"):
        code, text = out[key]
        assert code == 1 and "read-only file system" in text and "Traceback" not in text, (
            key,
            text,
        )
    assert "Reading it (list, info, search, check) still works" in out["update"][1]
    assert open_index("ro").stats().documents == 2  # nothing was changed by the child


def test_full_disk_is_one_line_and_leaves_the_index_as_it_was(
    glove: Encoder, tmp_path: Path
) -> None:
    if why := _namespaces():
        pytest.skip(f"private mounts are not allowed here ({why})")
    home = tmp_path / "home"
    home.mkdir()
    src, more = _write(tmp_path / "src", TEXTS), _write(tmp_path / "more", MORE)
    out = _in_namespace(
        f'mount -t tmpfs -o size=2m tmpfs "{home}"',
        FULL_DISK,
        [str(src), str(more), glove.info.name],
        home,
    )
    code, text = out["update"]
    assert code == 1 and "Traceback" not in text, text
    assert text.startswith("Disk full while writing") or "Disk full while writing" in text, text
    assert "keeps its last committed state" in text
    assert out["unchanged"] is True and out["check"] == []
    code, text = out["create"]
    assert code == 1 and "Disk full while writing" in text and "'b' was not created" in text, text
    assert out["listed"] == ["a"] and out["b_left"] is False and out["tmp_left"] == []
    assert out["after_room"] == [2, 4, True]


def test_simulated_full_disk_during_update_and_create(
    minilm: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated: ``write_segment`` raises OSError(ENOSPC) as a full disk would."""
    from embedlab.stores import writer

    src = _write(tmp_path / "src", TEXTS)
    index = create_index("full-sim", [src], minilm)
    before = (index.generation, index.chunk_ids().copy(), np.array(index.vectors()))
    _write(src, MORE)
    seg = index_folder("full-sim") / SEGMENTS / "x.npy"

    def full(folder: Path, matrix: np.ndarray) -> tuple[str, str]:
        raise OSError(errno.ENOSPC, "No space left on device", str(seg))

    monkeypatch.setattr(writer, "write_segment", full)
    with pytest.raises(
        DiskFullError, match=f"Disk full while writing {seg}: index 'full-sim' keeps"
    ):
        update_index("full-sim", minilm)
    assert index.generation == before[0]
    np.testing.assert_array_equal(index.chunk_ids(), before[1])
    np.testing.assert_array_equal(index.vectors(), before[2])
    assert check_index("full-sim").ok
    with pytest.raises(DiskFullError, match="'other-sim' was not created"):
        create_index("other-sim", [src], minilm)
    assert not index_folder("other-sim").exists()
    assert "other-sim" not in {e.name for e in survey_indexes()}
    monkeypatch.undo()
    assert update_index("full-sim", minilm).files_indexed == 2
