"""A dense-only query never imports the keyword kernels: bm25s (with scipy's sparse
matrices and numba) is most of a second to import, loaded only for BM25 and hybrid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from embedlab.models import Encoder
from embedlab.stores import create_index

#: opens the index, runs a dense query, records whether bm25s/numba were imported; then a
#: BM25 query on the same index, which must import bm25s (so the check can see it at all).
SCRIPT = """
import json, sys
from embedlab.search import search
dense = search(sys.argv[1], "fish in the river", k=2, mode="dense")
after_dense = {m: m in sys.modules for m in ("bm25s", "numba")}
bm25 = search(sys.argv[1], "fish in the river", k=2, mode="bm25")
print(json.dumps({
    "dense": [h.chunk.text for h in dense.hits],
    "after_dense": after_dense,
    "bm25": [h.chunk.text for h in bm25.hits],
    "after_bm25": "bm25s" in sys.modules,
}))
"""


def test_dense_query_does_not_import_bm25s(minilm: Encoder, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "river.txt").write_text("The river bank was full of fish and small boats.\n")
    (docs / "loan.txt").write_text("The bank gave the farmer a loan for his market stall.\n")
    (docs / "road.txt").write_text("A new road crosses the field to the stone farm.\n")
    create_index("lazy-imports", [docs], minilm)

    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, "lazy-imports"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["dense"][0].startswith("The river bank")
    assert out["after_dense"] == {"bm25s": False, "numba": False}
    assert out["bm25"][0].startswith("The river bank")
    assert out["after_bm25"] is True
