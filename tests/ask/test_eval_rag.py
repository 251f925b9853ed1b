"""``eval rag``: each stage loses a known query of a small set built on the demo corpus, and
context recall@budget matches a count made by hand."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from embedlab.ask import ChatModel, load_chat
from embedlab.cli.main import cli
from embedlab.data import demo_documents
from embedlab.errors import DatasetError
from embedlab.evaluate.datasets import load_beir
from embedlab.evaluate.rag import diagnose_rag
from embedlab.models import Encoder
from embedlab.models.base import Reranker
from embedlab.stores import Index

#: query -> (relevant demo document, what happens to it); ranks measured on the demo index.
QUERIES = {
    "hound gnaws sneakers and boots": "demo-43",  # BM25: shares no word with it
    "why does the moon show one face": "demo-07",  # first everywhere
    "doctor told me to eat less sodium": "demo-21",  # dense #2 (demo-22 says it too)
    "night train saves hotel": "demo-36",  # bm25 #2, dense #1: fused #2
    "how many hours do astronauts exercise": "demo-08",  # fused #1, GloVe reranks it #3
    "stocks drop when rates rise": "demo-25",  # #2 in every mode
}


class GloveReranker(Reranker):
    """A real second opinion: cosine of GloVe 6B 50d mean word vectors."""

    name = "glove-cosine"

    def __init__(self, glove: Encoder) -> None:
        self.glove = glove

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        v = self.glove.embed([query, *passages], role="document")
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        return (v[1:] @ v[0]).astype(np.float32)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rag-set")
    with open(folder / "corpus.jsonl", "w") as f:
        for d in demo_documents():
            f.write(json.dumps({"_id": d["id"], "title": d["title"], "text": d["text"]}) + "\n")
    with open(folder / "queries.jsonl", "w") as f:
        for i, q in enumerate(QUERIES):
            f.write(json.dumps({"_id": f"q{i}", "text": q}) + "\n")
    with open(folder / "qrels.tsv", "w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for i, doc in enumerate(QUERIES.values()):
            f.write(f"q{i}\t{doc}\t1\n")
    return folder


@pytest.fixture(scope="module")
def setup(demo: str, chat_server: str) -> tuple[Index, ChatModel]:
    from embedlab.stores import open_index

    # the remote model counts ~4 characters a token: budgets below are easy to check by hand
    return open_index(demo), load_chat("ollama:m", base_url=chat_server)


def _lost(result: object) -> dict[str, str]:
    return {q.query: q.lost_at for q in result.queries}  # type: ignore[attr-defined]


def test_each_stage_loses_its_query(
    dataset: Path, setup: tuple[Index, ChatModel], glove: Encoder
) -> None:
    index, chat = setup
    ds = load_beir(dataset)
    bm25 = diagnose_rag(ds, index, chat, mode="bm25", k=3)
    assert _lost(bm25)["hound gnaws sneakers and boots"] == "missed by bm25"
    assert bm25.queries[0].query == "hound gnaws sneakers and boots"  # worst first
    dense = diagnose_rag(ds, index, chat, mode="dense", k=1)
    assert _lost(dense)["doctor told me to eat less sodium"] == "missed by dense"
    assert _lost(dense)["why does the moon show one face"] == "ok"
    hybrid = diagnose_rag(ds, index, chat, mode="hybrid", k=1)
    night = next(q for q in hybrid.queries if q.query == "night train saves hotel")
    assert night.lost_at == "dropped by fusion"
    assert (night.ranks["bm25"], night.ranks["dense"], night.ranks["fused"]) == (2, 1, None)
    reranked = diagnose_rag(
        ds, index, chat, mode="hybrid", k=1, rerank=GloveReranker(glove), rerank_candidates=3
    )
    assert _lost(reranked)["how many hours do astronauts exercise"] == "dropped by rerank"
    budget = diagnose_rag(ds, index, chat, mode="dense", k=3, context_tokens=90)
    lost = _lost(budget)
    assert lost["stocks drop when rates rise"] == "cut by the budget"
    assert lost["why does the moon show one face"] == "ok"
    assert sum(budget.losses.values()) == len(QUERIES)
    assert budget.losses["cut by the budget"] == sum(
        v == "cut by the budget" for v in lost.values()
    )


def test_context_recall_grid_matches_a_hand_count(
    dataset: Path, setup: tuple[Index, ChatModel]
) -> None:
    index, chat = setup
    ds = load_beir(dataset)
    d = diagnose_rag(ds, index, chat, mode="dense", k=3, ks=(1, 3), contexts=(90, None))
    docs = {x["id"]: x for x in demo_documents()}
    from embedlab.search.pipeline import search

    expected: dict[tuple[int, int | None], float] = {}
    for kk in (1, 3):
        for ctx in (90, None):
            got = 0
            for q, rel in QUERIES.items():
                hits = [h.chunk.metadata["id"] for h in search(index, q, k=kk).hits]
                fixed = chat.count_prompt(
                    [
                        {"role": "system", "content": "x" * 0},
                    ]
                )  # the budget only matters through ctx here: the window is 4096
                del fixed
                used, fit = 0, []  # the window (4096) holds all three: only ctx cuts
                for n, doc in enumerate(hits, start=1):
                    text = f"[{n}] {docs[doc]['title']}\n{docs[doc]['text']}\n\n"
                    cost = math.ceil(len(text) / 4)
                    if ctx is not None and used + cost > ctx:
                        break
                    used += cost
                    fit.append(doc)
                got += rel in fit
            expected[(kk, ctx)] = got / len(QUERIES)
    assert {(r["k"], r["context_tokens"]): r["recall"] for r in d.recall} == pytest.approx(expected)
    assert expected[(3, None)] > expected[(3, 90)]  # the set does exercise the budget


def test_cli_prints_losses_and_grid(dataset: Path, setup: tuple[Index, ChatModel]) -> None:
    index, chat = setup
    result = CliRunner().invoke(
        cli,
        ["eval", "rag", str(dataset), "--index", index.name, "--chat", chat.info.name,
         "--mode", "dense", "-k", "1", "--ks", "1,3", "--contexts", "90,window"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "missed by dense" in result.output and "Context recall@budget" in result.output
    assert "90 tokens" in result.output and "window" in result.output


def test_index_without_the_datasets_documents_is_refused(
    dataset: Path, setup: tuple[Index, ChatModel], minilm: Encoder
) -> None:
    from embedlab.search.memory import MemoryIndex

    other = MemoryIndex.from_texts(minilm, ["unrelated text"], name="other")
    with pytest.raises(DatasetError, match="index create other"):
        diagnose_rag(load_beir(dataset), other, setup[1])


def test_generate_counts_answers_citing_a_relevant_source(
    dataset: Path, setup: tuple[Index, ChatModel], chat_server: str
) -> None:
    chat = load_chat("ollama:grounded", base_url=chat_server)  # always answers citing [1]
    d = diagnose_rag(load_beir(dataset), setup[0], chat, mode="dense", k=1, generate=True)
    by = {q.query: q.cites_relevant for q in d.queries}
    assert by["why does the moon show one face"] is True  # [1] is its relevant document
    assert by["doctor told me to eat less sodium"] is False  # [1] is demo-22, not demo-21
    assert d.cites_relevant_rate == pytest.approx(sum(map(bool, by.values())) / len(by))
