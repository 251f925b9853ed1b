"""Run inside a network namespace with loopback alone (``unshare -n``, ``ip link set lo up``):
the real Milvus 2.3.5 standalone that the PyPI package ``milvus`` unpacks (it binds every
interface, hence the namespace), then the dense path and the fallbacks against it, compared
with the embedded store. Prints one ``OK ...`` line per check; exits 1 on the first failure.

argv: the folder holding the ``milvus`` package ("" when it is installed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import warnings

os.environ["EMBEDLAB_HOME"] = tempfile.mkdtemp(prefix="m235-home-")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
path = sys.argv[1] if len(sys.argv) > 1 else ""
data = tempfile.mkdtemp(prefix="m235-")
start = (
    "import sys; sys.path.insert(0, sys.argv[2]) if sys.argv[2] else None; "
    "from milvus import main; sys.argv = ['milvus-server', '--data', sys.argv[1]]; main()"
)
log = open(os.path.join(data, "server.log"), "w")  # noqa: SIM115 - open while it runs
server = subprocess.Popen([sys.executable, "-c", start, data, path], stdout=log,
                          stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def main() -> None:
    import numpy as np
    from pymilvus import MilvusClient

    from embedlab.data.demo_corpus import demo_path
    from embedlab.models import load_model
    from embedlab.stores import FirstStage, create_index

    t0 = time.monotonic()
    while True:
        try:
            client = MilvusClient(uri="http://127.0.0.1:19530", timeout=3)
            client.list_collections(timeout=3)
            break
        except Exception as exc:  # noqa: BLE001 - not up yet
            if time.monotonic() - t0 > 240 or server.poll() is not None:
                raise SystemExit(f"FAIL server did not start ({exc})") from None
            time.sleep(0.5)
    print(f"OK server {client.get_server_version()} up in {time.monotonic() - t0:.0f} s")
    enc = load_model("minilm")
    m = create_index("demo235", [demo_path()], enc, store="milvus://127.0.0.1:19530")
    e = create_index("demo-embedded", [demo_path()], enc, store="embedded")
    assert len(m) == len(e), (len(m), len(e))
    assert (m.prefix_dims, m.bits_kind, m.full_text) == (0, "none", False), m._props
    print("OK one vector field, no BM25 function: the collection was made without them")
    q = enc.embed(["how do astronauts stay healthy", "the offside rule"], role="query")
    for stage, where in [(FirstStage(exact=True), "milvus"), (FirstStage(dims=128), "local"),
                         (FirstStage(quantize="binary"), "local")]:  # fmt: skip
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            a = m.search(q, 10, stage=stage)
        b = e.search(q, 10, stage=stage)
        ta = [[c.text for c in m.get_chunks(r)] for r in a.ids]
        tb = [[c.text for c in e.get_chunks(r)] for r in b.ids]
        assert ta == tb and np.allclose(a.scores, b.scores, atol=1e-5), stage
        assert a.method.endswith("(local)") == (where == "local"), a.method
        print(f"OK {a.method}: the embedded store's top 10")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        k = m.keyword("offside rule", 5)
    assert k.method == "bm25(local)" and any("no BM25 function" in str(w.message) for w in said)
    kb = e.keyword("offside rule", 5)
    assert [c.text for c in m.get_chunks(k.ids)] == [c.text for c in e.get_chunks(kb.ids)]
    print("OK no BM25 function: said so, local BM25 gives the embedded store's top 5")


try:
    main()
except AssertionError as exc:
    print(f"FAIL {exc!r}")
    sys.exit(1)
finally:
    os.killpg(server.pid, 15)
    server.wait(timeout=60)
    # the launcher starts Milvus in a session of its own: stop what runs from its data folder
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                mine = data.encode() in f.read()
        except OSError:
            continue
        if pid.isdigit() and mine and int(pid) != os.getpid():
            os.kill(int(pid), 15)
