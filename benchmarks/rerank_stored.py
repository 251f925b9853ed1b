"""Residual reranking of 50 candidates: the candidates' stored vectors against embedding them
again, on the same queries and candidates in the same run.

Builds an index of ``N`` news articles (MiniLM), and a residual reranker (a cross-encoder
from the MiniLM weights with a fresh one-logit head: its speed does not depend on its
training; prior MiniLM, scale 20). For each of ``Q`` titles it takes the dense top 50 and
times ``search.rerank.rerank`` twice: with ``index=`` and ``ids=`` (stored vectors: only
the query is embedded) and without (the candidates embedded again, the code before).
Prints the median seconds per query of each, the ratio and the largest score difference.

    .venv/bin/python benchmarks/rerank_stored.py [N] [Q]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    q = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    os.environ["EMBEDLAB_HOME"] = tempfile.mkdtemp(prefix="rerank-stored-")
    from sentence_transformers import CrossEncoder

    from embedlab.data import news_articles
    from embedlab.models import load_model
    from embedlab.models.paths import minilm_folder
    from embedlab.models.rerankers import CrossEncoderReranker
    from embedlab.search.rerank import rerank
    from embedlab.stores import create_index

    minilm = load_model("minilm")
    arts = news_articles(limit=n)
    folder = Path(os.environ["EMBEDLAB_HOME"]) / "src"
    folder.mkdir()
    for i, a in enumerate(arts):
        (folder / f"a{i:03d}.txt").write_text(a.text[:1500], encoding="utf-8")
    index = create_index("rerank-stored", [folder], minilm)
    model = CrossEncoder(str(minilm_folder()), num_labels=1, max_length=256, device="cpu")
    residual = CrossEncoderReranker(model, "residual", minilm, 20.0)
    stored_s, again_s, diff = [], [], 0.0
    for a in arts[:q]:
        qv = minilm.embed([a.title], role="query")
        ids = [int(i) for i in index.search(qv, 50).ids[0]]
        texts = [c.text for c in index.get_chunks(ids)]
        t = time.perf_counter()
        with_stored = rerank(residual, a.title, texts, index=index, ids=ids)
        stored_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        embedded = rerank(residual, a.title, texts)
        again_s.append(time.perf_counter() - t)
        diff = max(diff, float(abs(with_stored.scores - embedded.scores).max()))
    s, e = statistics.median(stored_s), statistics.median(again_s)
    print(f"{len(index)} chunks; {q} queries x {len(ids)} candidates; median seconds per query")
    print(f"stored vectors: {s:.3f} s   embedded again: {e:.3f} s   ratio {e / s:.2f}x")
    print(f"largest score difference: {diff:.2e}")


if __name__ == "__main__":
    main()
