"""The commands over a Milvus index (``--store milvus://...``), and a create killed with
SIGKILL then finished by ``index update``: exactly the rows of a clean build."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.data.demo_corpus import demo_path
from embedlab.errors import IndexNotFoundError
from embedlab.models import Encoder
from embedlab.stores import create_index, open_index, update_index
from embedlab.stores.milvus import MilvusIndex
from embedlab.stores.milvus_client import connect
from tests.scale.conftest import drop_indexes
from tests.scale.scale_helpers import MemoEncoder
from tests.stores.store_helpers import write_news

#: the killed create: rows are upserted 8 at a time so the kill lands between batches.
KILLED_CREATE = """
import sys
import embedlab.stores.milvus_writer as w
w.BATCH = 8
from embedlab.cli.main import cli
cli(["index", "create", sys.argv[1], *sys.argv[3:], "--store", sys.argv[2], "-q"])
"""


@pytest.fixture(scope="module", autouse=True)
def _drop_after(milvus: str) -> Iterator[None]:
    yield
    drop_indexes(milvus, ("killed-clean", "eval-embedded"))


def _rows(index: Any) -> set[tuple[str, int, int, str]]:
    return {
        (c.source, c.position["record"], c.position["chunk"], c.text)
        for page in index.iter_chunks(batch=500)
        for c in page
    }


def test_cli_create_list_info_search_drop(milvus: str, minilm: Encoder) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["index", "create", "cli_m", str(demo_path()), "--store", milvus, "-q"])
    assert r.exit_code == 0, r.output
    assert "chunks, model minilm" in r.output
    r = runner.invoke(cli, ["index", "list"])
    line = next(x for x in r.output.splitlines() if x.startswith("cli_m"))
    assert f"milvus ({milvus})" in line
    r = runner.invoke(cli, ["index", "info", "cli_m"])
    assert f"milvus ({milvus})" in r.output and "fingerprint" in r.output
    r = runner.invoke(cli, ["search", "cli_m", "the offside rule in football", "-k", "3", "--json"])
    assert r.exit_code == 0, r.output
    hits = json.loads(r.stdout)["hits"]
    assert "offside" in hits[0]["chunk"]["text"].lower()
    r = runner.invoke(cli, ["search", "cli_m", "offside rule", "--mode", "hybrid", "-k", "3"])
    assert r.exit_code == 0 and "offside" in r.output.lower()
    r = runner.invoke(cli, ["index", "update", "cli_m", "-q"])
    assert r.exit_code == 0 and "0 file(s) indexed, 1 unchanged" in r.output
    r = runner.invoke(cli, ["index", "drop", "cli_m"])
    assert r.exit_code == 0
    with pytest.raises(IndexNotFoundError):
        open_index("cli_m")


def test_default_store_from_the_setting(milvus: str, minilm: Encoder) -> None:
    r = CliRunner().invoke(
        cli, ["index", "create", "env_m", str(demo_path()), "-q"], env={"EMBEDLAB_STORE": milvus}
    )
    assert r.exit_code == 0, r.output
    assert isinstance(open_index("env_m"), MilvusIndex)
    r = CliRunner().invoke(cli, ["index", "create", "x", "/nonexistent", "--store", "milvus://"])
    assert r.exit_code != 0 and "names no host" in r.output


def test_ask_over_milvus(milvus: str, minilm: Encoder, chat_local: Any) -> None:
    create_index("ask_m", [demo_path()], MemoEncoder(minilm), store=milvus)  # ask opens it by name
    r = CliRunner().invoke(
        cli,
        ["ask", "ask_m", "How long do astronauts exercise on the space station?",
         "--chat", "local", "-k", "2", "--max-tokens", "24", "--json", "--no-stream"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    sources = out.get("sources") or out.get("chunks") or []
    assert sources, out
    assert any("space" in json.dumps(s).lower() for s in sources)


def test_sigkill_during_create_then_update(milvus: str, minilm: Encoder, tmp_path: Path) -> None:
    folder = tmp_path / "news"
    write_news(folder, 6, max_chars=1200)
    sources = [str(demo_path()), str(folder)]
    clean = create_index("killed-clean", sources, MemoEncoder(minilm), store="embedded")
    script = tmp_path / "create.py"
    script.write_text(KILLED_CREATE)
    proc = subprocess.Popen(
        [sys.executable, str(script), "killed_m", milvus, *sources],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip
    client = connect(milvus)
    deadline = time.monotonic() + 120
    written = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if client.has_collection("killed_m"):
                rows = client.query("killed_m", filter="", output_fields=["count(*)"],
                                    consistency_level="Strong")  # fmt: skip
                written = int(rows[0]["count(*)"])
                if written > 0:
                    break
            time.sleep(0.02)
        assert proc.poll() is None, f"the create ended first: {proc.stderr.read()[-500:]!r}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    rows = client.query(
        "killed_m", filter="", output_fields=["count(*)"], consistency_level="Strong"
    )
    assert 0 < int(rows[0]["count(*)"]) < len(clean)  # a partial index
    with pytest.raises(IndexNotFoundError, match="never committed"):
        open_index("killed_m")  # no commit marker yet
    r = CliRunner().invoke(cli, ["index", "check", "killed_m"])
    assert r.exit_code == 1 and "No commit marker" in r.output, r.output
    report = update_index("killed_m", MemoEncoder(minilm))
    index = open_index("killed_m")
    assert len(index) == len(clean)
    assert _rows(index) == _rows(clean)
    assert report.chunks_embedded == len(clean) - int(rows[0]["count(*)"])
    assert update_index("killed_m", minilm).chunks_embedded == 0  # nothing left to do
    r = CliRunner().invoke(cli, ["index", "check", "killed_m"])
    assert r.exit_code == 0 and r.output.rstrip().endswith("OK"), r.output


def test_eval_rag_over_milvus_equals_embedded(
    milvus: str, minilm: Encoder, chat_local: Any, tmp_path: Path
) -> None:
    """``eval rag`` on the demo documents as a BEIR set: the Milvus index and an embedded
    index of the same corpus lose the same questions at the same stages."""
    from embedlab.data import demo_documents

    docs = list(demo_documents())
    folder = tmp_path / "set"
    folder.mkdir()
    with open(folder / "corpus.jsonl", "w") as f:
        for d in docs:
            f.write(json.dumps({"_id": d["id"], "title": d["title"], "text": d["text"]}) + "\n")
    queries = {f"q{i}": d["title"] for i, d in enumerate(docs[:12])}
    with open(folder / "queries.jsonl", "w") as f:
        for qid, text in queries.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    with open(folder / "qrels.tsv", "w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for i, d in enumerate(docs[:12]):
            f.write(f"q{i}\t{d['id']}\t1\n")
    encoder = MemoEncoder(minilm)
    create_index("eval_m", [folder / "corpus.jsonl"], encoder, store=milvus)
    create_index("eval-embedded", [folder / "corpus.jsonl"], encoder, store="embedded")
    out = {}
    for name in ("eval_m", "eval-embedded"):
        r = CliRunner().invoke(
            cli,
            ["eval", "rag", str(folder), "--index", name, "--chat", "local",
             "--mode", "dense", "-k", "3", "--json"],
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        out[name] = json.loads(r.stdout)
    m, e = out["eval_m"], out["eval-embedded"]
    assert m["recall"] == e["recall"] and m["losses"] == e["losses"]
    lost = {q["query"]: q["lost_at"] for q in m["queries"]}
    assert lost == {q["query"]: q["lost_at"] for q in e["queries"]}
    assert sum(v == "ok" for v in lost.values()) >= 8  # titles find their own document
