"""Diagnose retrieval for RAG: for each judged query, where its relevant chunks were lost.

The pipeline a question goes through is the one :func:`embedlab.ask.ask` runs: the
retrievers (BM25, dense; each returns its candidate list), fusion (hybrid), the reranker,
the cut to ``k``, and the context budget of the chat model. For every query this module
runs the same :func:`~embedlab.search.pipeline.search` once per stage and reports the best
rank a relevant chunk reached at each, and the stage where the last one was lost:

- ``missed by bm25`` / ``missed by dense`` / ``missed by bm25 and dense``: no relevant chunk
  among the retriever's candidates;
- ``dropped by fusion``: found by a retriever, but fused below the cut;
- ``dropped by rerank``: among the reranker's candidates, but reranked below ``k``;
- ``cut by the budget``: in the top ``k``, but not among the chunks that fit the prompt;
- ``ok``: a relevant chunk is in the prompt.

Chunks are matched to the data set's documents by their ``_id`` (or ``id``) field, which
indexing a BEIR ``corpus.jsonl`` keeps in each chunk's metadata, else by chunk id (the
collections the lab saves use chunk ids).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from embedlab.ask.chat import ChatModel
from embedlab.ask.cite import cited_numbers
from embedlab.ask.prompt import build_prompt
from embedlab.errors import ContextWindowError, DatasetError, InputError
from embedlab.evaluate.datasets import RetrievalDataset
from embedlab.search.pipeline import HYBRID_DEPTH, MODES, Hit, search
from embedlab.search.rerank import RERANK_CANDIDATES
from embedlab.stores.base import Chunk, Index

#: loss stages, earliest first (the order "worst queries first" sorts by).
LOSSES: tuple[str, ...] = (
    "missed by bm25 and dense",
    "missed by bm25",
    "missed by dense",
    "dropped by fusion",
    "dropped by rerank",
    "cut by the budget",
    "ok",
)


def doc_key(chunk: Chunk) -> str:
    """The data-set document a chunk belongs to: its ``_id``/``id`` field, else its chunk id."""
    meta = chunk.metadata
    for name in ("_id", "id", "doc_id"):
        if name in meta and meta[name] not in (None, ""):
            return str(meta[name])
    return str(chunk.id)


@dataclass
class QueryDiagnosis:
    """One query: the best rank a relevant chunk reached at each stage, and where it was lost.

    Ranks are 1-based; ``None`` means no relevant chunk was there.
    """

    query_id: str
    query: str
    relevant: list[str]
    lost_at: str
    ranks: dict[str, int | None] = field(default_factory=dict)
    in_prompt: int = 0
    cites_relevant: bool | None = None
    answer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return dict(self.__dict__)


@dataclass
class RagDiagnosis:
    """The whole set: per query diagnoses (worst first), loss counts, recall@budget grid."""

    dataset: str
    index: str
    settings: dict[str, Any]
    queries: list[QueryDiagnosis]
    losses: dict[str, int]
    recall: list[dict[str, Any]]
    cites_relevant_rate: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {
            "dataset": self.dataset,
            "index": self.index,
            "settings": self.settings,
            "losses": self.losses,
            "recall": self.recall,
            "cites_relevant_rate": self.cites_relevant_rate,
            "queries": [q.to_dict() for q in self.queries],
        }


def _best(hits: Sequence[Hit], relevant: set[str]) -> int | None:
    ranks = [h.rank for h in hits if doc_key(h.chunk) in relevant]
    return min(ranks) if ranks else None


def _lost_at(mode: str, ranks: dict[str, int | None], reranked: bool) -> str:
    """The stage where the last relevant chunk fell out (see the module docstring)."""
    found = {r: ranks.get(r) is not None for r in MODES[mode]}
    if not any(found.values()):
        return "missed by " + " and ".join(MODES[mode])
    if mode == "hybrid" and ranks.get("fused") is None:
        return "dropped by fusion"
    if ranks.get("final") is None:
        return "dropped by rerank" if reranked else "dropped by fusion"
    return "ok" if ranks.get("prompt") is not None else "cut by the budget"


def _check_keys(index: Index, ds: RetrievalDataset) -> None:
    sample = index.get_chunks([int(i) for i in index.chunk_ids()[:200]])
    wanted = {d for docs in ds.qrels.values() for d in docs}
    if not any(doc_key(c) in wanted for c in sample) and not any(
        doc_key(c) in wanted for page in index.iter_chunks() for c in page
    ):
        raise DatasetError(
            f"No chunk of index {index.name!r} belongs to a judged document of {ds.name!r} "
            "(matched by the '_id' or 'id' field, else the chunk id). Index the data set's "
            f"corpus: embedlab index create {index.name} DATASET/corpus.jsonl."
        )


def diagnose_rag(
    ds: RetrievalDataset,
    index: Index,
    chat: ChatModel,
    *,
    mode: str = "hybrid",
    k: int = 5,
    rerank: Any = None,
    rerank_candidates: int = RERANK_CANDIDATES,
    context_tokens: int | None = None,
    max_tokens: int = 256,
    ks: Sequence[int] = (1, 3, 5, 10),
    contexts: Sequence[int | None] = (128, 256, 512, None),
    generate: bool = False,
    progress: Callable[[str], None] | None = None,
    encoder: Any = None,
) -> RagDiagnosis:
    """Run every judged query of ``ds`` through retrieval and the prompt budget of ``chat``.

    :param encoder: the index's model as an encoder to use (one on a Ray cluster); by
        default it is loaded here.

    :param ks, contexts: the grid of context recall@budget (``None`` = the model's window).
    :param generate: also ask ``chat`` and count answers citing a relevant source.
    :raises DatasetError: the index holds none of the judged documents.
    """
    if mode not in MODES:
        raise InputError(f"Unknown mode {mode!r}: use one of {', '.join(MODES)}.")
    if k < 1 or any(x < 1 for x in ks):
        raise InputError("k must be at least 1.")
    _check_keys(index, ds)
    depth = HYBRID_DEPTH if mode == "hybrid" else max(k, rerank_candidates if rerank else 0)
    deepest = max([k, *ks])
    out: list[QueryDiagnosis] = []
    grid: Counter[tuple[int, int | None]] = Counter()
    totals: dict[tuple[int, int | None], float] = {}
    queries = ds.judged_queries
    from embedlab.models import load_model

    encoder = encoder or load_model(index.model_name)  # the index's model, one batch
    index.check_model(encoder)
    vectors = encoder.embed(list(queries.values()), role="query") if queries else None
    for n, (qid, text) in enumerate(queries.items(), start=1):
        relevant = {d for d, g in ds.qrels[qid].items() if g >= 1}
        ranks: dict[str, int | None] = {}
        same: dict[str, Any] = {
            "encoder": encoder,
            "query_vector": vectors[n - 1] if vectors is not None else None,
        }
        for retriever in MODES[mode]:
            found = search(index, text, k=depth, mode=retriever, **same).hits
            ranks[retriever] = _best(found, relevant)
        if mode == "hybrid":
            cut = rerank_candidates if rerank else k
            ranks["fused"] = _best(search(index, text, k=cut, mode="hybrid", **same).hits, relevant)
        final = search(index, text, k=deepest, mode=mode, rerank=rerank,
                       rerank_candidates=rerank_candidates, **same).hits  # fmt: skip
        ranks["final"] = _best(final[:k], relevant)
        prompt = _prompt(chat, text, final[:k], max_tokens, context_tokens)
        numbers = [c.number for c in prompt.included if doc_key(c.chunk) in relevant]
        ranks["prompt"] = min(numbers) if numbers else None
        diag = QueryDiagnosis(
            qid, text, sorted(relevant), _lost_at(mode, ranks, rerank is not None), ranks,
            in_prompt=len(numbers),
        )  # fmt: skip
        for kk in ks:
            for ctx in contexts:
                p = _prompt(chat, text, final[:kk], max_tokens, ctx)
                got = {doc_key(c.chunk) for c in p.included} & relevant
                totals[(kk, ctx)] = totals.get((kk, ctx), 0.0) + len(got) / len(relevant)
                grid[(kk, ctx)] += 1
        if generate and prompt.included:
            from embedlab.ask.pipeline import ask

            result = ask(index, text, chat=chat, mode=mode, k=k, rerank=rerank,
                         context_tokens=context_tokens, max_tokens=max_tokens)  # fmt: skip
            by_number = {c.number: c for c in result.sources}
            keys = {
                str(by_number[m].chunk_id) for m in cited_numbers(result.answer) if m in by_number
            }
            cited_docs = {doc_key(c) for c in index.get_chunks([int(x) for x in keys])}
            diag.cites_relevant = bool(cited_docs & relevant)
            diag.answer = result.answer
        out.append(diag)
        if progress:
            progress(f"{n}/{len(queries)} {qid}: {diag.lost_at}")
    out.sort(key=lambda d: (LOSSES.index(d.lost_at), -(d.ranks.get("final") or 0)))
    losses = {name: sum(d.lost_at == name for d in out) for name in LOSSES}
    recall = [
        {"k": kk, "context_tokens": ctx, "recall": totals[(kk, ctx)] / grid[(kk, ctx)]}
        for kk in ks
        for ctx in contexts
        if grid[(kk, ctx)]
    ]
    cited = [d.cites_relevant for d in out if d.cites_relevant is not None]
    settings = {
        "mode": mode, "k": k, "rerank": None if rerank is None else str(rerank),
        "rerank_candidates": rerank_candidates if rerank else None, "depth": depth,
        "context_tokens": context_tokens, "max_tokens": max_tokens, "chat": chat.info.name,
        "window": chat.info.context_window,
    }  # fmt: skip
    rate = sum(cited) / len(cited) if cited else None
    return RagDiagnosis(ds.name, index.name, settings, out, losses, recall, rate)


def _prompt(
    chat: ChatModel, question: str, hits: Sequence[Hit], max_tokens: int, ctx: int | None
) -> Any:
    """The prompt for these hits; a budget that holds no chunk gives an empty prompt."""
    from embedlab.ask.prompt import Budget, Prompt

    try:
        return build_prompt(chat, question, [(h.chunk, h.score) for h in hits],
                            max_tokens=max_tokens, context_tokens=ctx)  # fmt: skip
    except ContextWindowError:
        return Prompt([], 0, Budget(chat.info.context_window, max_tokens, 0, 0, 0, ctx or 0))


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A plain aligned text table (floats with three decimals)."""
    cells = [[str(h) for h in headers]]
    cells += [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _rank(r: int | None) -> str:
    return "-" if r is None else f"#{r}"


def format_diagnosis(d: RagDiagnosis, worst: int = 20) -> str:
    """Plain text: losses by stage, the worst queries, and context recall@budget."""
    s = d.settings
    n = len(d.queries)
    lines = [
        f"RAG diagnosis of {d.dataset} on index {d.index}: {n} queries, mode {s['mode']}, "
        f"k {s['k']}, rerank {s['rerank'] or 'none'}, chat {s['chat']} "
        f"(window {s['window']}, context {s['context_tokens'] or 'the window'})",
        "",
        table([(name, c, f"{c / n:.0%}" if n else "-") for name, c in d.losses.items()],
              ["where the relevant chunks were lost", "queries", "share"]),
        "",
        f"Worst queries first (best rank of a relevant chunk at each stage; {min(worst, n)} shown):",
    ]  # fmt: skip
    stages = (
        [x for x in ("bm25", "dense", "fused", "final", "prompt") if x in d.queries[0].ranks]
        if d.queries
        else []
    )
    rows = [
        [q.query_id, q.lost_at, *[_rank(q.ranks[x]) for x in stages], q.query[:50]]
        for q in d.queries[:worst]
    ]
    lines.append(table(rows, ["query", "lost at", *stages, "text"]))
    ctxs = list(dict.fromkeys(r["context_tokens"] for r in d.recall))
    ks = list(dict.fromkeys(r["k"] for r in d.recall))
    cell = {(r["k"], r["context_tokens"]): r["recall"] for r in d.recall}
    lines += [
        "",
        "Context recall@budget (share of relevant chunks that reach the prompt):",
        table([[f"k={k}", *[cell[(k, c)] for c in ctxs]] for k in ks],
              ["", *[f"{c} tokens" if c else "window" for c in ctxs]]),
    ]  # fmt: skip
    if d.cites_relevant_rate is not None:
        lines.append(f"\nAnswers citing a relevant source: {d.cites_relevant_rate:.0%}")
    return "\n".join(lines)


__all__ = [
    "LOSSES",
    "QueryDiagnosis",
    "RagDiagnosis",
    "diagnose_rag",
    "doc_key",
    "format_diagnosis",
]
