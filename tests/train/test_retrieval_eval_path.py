"""The training evaluation retrieves through the one retrieval path (search/retrieve.py):
its runs equal an independent numpy computation (cosine top-k; the candidates rescored)."""

from __future__ import annotations

import numpy as np

from embedlab.evaluate.datasets import Document, RetrievalDataset
from embedlab.train.retrieval_eval import _dense_run, _retrieve, _run


def _data() -> tuple[RetrievalDataset, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    docs = rng.standard_normal((300, 32)).astype(np.float32)
    q = rng.standard_normal((40, 32)).astype(np.float32)
    corpus = {f"d{i}": Document(f"d{i}", f"text {'x' * (i % 11)}") for i in range(300)}
    queries = {f"q{i}": f"query {i}" for i in range(40)}
    qrels = {f"q{i}": {f"d{i}": 1} for i in range(40)}
    return RetrievalDataset("random", corpus, queries, qrels), q, docs


def _cosine_top(q: np.ndarray, docs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    dn = docs / np.linalg.norm(docs, axis=1, keepdims=True)
    s = qn.astype(np.float64) @ dn.T.astype(np.float64)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(s, order, axis=1)


def test_dense_run_is_the_cosine_top_k() -> None:
    ds, q, docs = _data()
    run = _dense_run(ds, q, docs, 20)
    order, scores = _cosine_top(q, docs, 20)
    for row, got in enumerate(run.values()):
        assert list(got) == [f"d{i}" for i in order[row]]
        np.testing.assert_allclose(list(got.values()), scores[row], atol=1e-5)


def test_reranked_run_rescores_the_dense_candidates() -> None:
    ds, q, docs = _data()

    def score(query: str, passages: list[str]) -> np.ndarray:
        return np.array([len(p) + int(query.split()[1]) % 3 for p in passages], dtype=np.float32)

    found = _retrieve(ds, q, docs, 10, score)
    before, after = _run(ds, found, "dense"), _run(ds, found, "reranked")
    order, _ = _cosine_top(q, docs, 10)
    texts = ds.doc_texts()
    for row, qid in enumerate(ds.judged_queries):
        assert list(before[qid]) == [f"d{i}" for i in order[row]]
        want = score(ds.queries[qid], [texts[i] for i in order[row]])
        by_rank = sorted(range(10), key=lambda j: (-want[j], j))  # ties: earlier first
        assert list(after[qid]) == [f"d{order[row][j]}" for j in by_rank]
        assert list(after[qid].values()) == [float(want[j]) for j in by_rank]
