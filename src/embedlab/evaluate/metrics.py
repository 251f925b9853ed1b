"""IR metrics computed exactly as trec_eval computes them.

- A run is ranked by score descending, ties broken by document id descending (trec_eval's
  ``comp_sim_docno``), so equal scores give the same order here and there.
- A judged document is relevant when its grade is ``>= relevance_level`` (1 by default).
- nDCG uses the grade itself as the gain (trec_eval's default, not ``2**grade - 1``) and a
  ``log2(rank + 1)`` discount; the ideal ranking is built from the judgments.
- Queries with judgments but no results count as zero in every mean (``trec_eval -c``);
  queries in the run that have no judgments are left out and reported in ``ignored``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from embedlab.errors import InputError

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]

#: metrics that take a cutoff k, and those over the whole ranking, in report order.
CUTOFF_METRICS: tuple[str, ...] = ("P", "recall", "hit", "nDCG")
WHOLE_METRICS: tuple[str, ...] = ("MRR", "MAP")
#: trec_eval's name of each metric (``hit`` is trec_eval's ``success``).
TREC_NAMES: dict[str, str] = {
    "P": "P",
    "recall": "recall",
    "hit": "success",
    "nDCG": "ndcg_cut",
    "MRR": "recip_rank",
    "MAP": "map",
}


@dataclass(frozen=True)
class RunMetrics:
    """Per-query and mean metrics of one run.

    :param ks: the cutoffs.
    :param per_query: query id -> metric name (``"P@5"``, ``"nDCG@10"``, ``"MRR"``...) -> value,
        for every judged query (those with no results hold zeros).
    :param mean: metric name -> mean over ``per_query``.
    :param missing: judged queries the run has no results for (counted as zero).
    :param ignored: queries of the run without judgments (left out of every number).
    """

    ks: tuple[int, ...]
    per_query: dict[str, dict[str, float]]
    mean: dict[str, float]
    missing: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Metric names in report order."""
        return metric_names(self.ks)

    @property
    def num_queries(self) -> int:
        return len(self.per_query)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record."""
        return {
            "ks": list(self.ks),
            "mean": self.mean,
            "per_query": self.per_query,
            "missing": self.missing,
            "ignored": self.ignored,
        }


def metric_names(ks: Iterable[int]) -> list[str]:
    """``P@1, recall@1, hit@1, nDCG@1, P@5 ..., MRR, MAP`` for the given cutoffs."""
    return [f"{m}@{k}" for k in ks for m in CUTOFF_METRICS] + list(WHOLE_METRICS)


def trec_name(name: str) -> str:
    """The trec_eval / pytrec_eval measure name of ``name`` (``"nDCG@10"`` -> ``"ndcg_cut_10"``)."""
    base, _, k = name.partition("@")
    return f"{TREC_NAMES[base]}_{k}" if k else TREC_NAMES[base]


def rank(results: Mapping[str, float]) -> list[str]:
    """Document ids by score descending, ties by document id descending (as trec_eval)."""
    ranked = sorted(results.items(), key=lambda kv: kv[0], reverse=True)
    ranked.sort(key=lambda kv: -float(kv[1]))  # stable: ties keep the docid-descending order
    return [d for d, _ in ranked]


def _dcg(gains: Iterable[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains) if g)


def query_metrics(
    judgments: Mapping[str, int],
    ranking: list[str],
    ks: tuple[int, ...],
    relevance_level: int = 1,
) -> dict[str, float]:
    """Every metric of one query, from its judgments and its ranked document ids."""
    grades = [int(judgments.get(d, 0)) for d in ranking]
    rel = [g >= relevance_level for g in grades]
    num_rel = sum(1 for g in judgments.values() if g >= relevance_level)
    ideal = sorted((max(g, 0) for g in judgments.values()), reverse=True)
    out: dict[str, float] = {}
    for k in ks:
        hits = sum(rel[:k])
        idcg = _dcg(ideal[:k])
        out[f"P@{k}"] = hits / k
        out[f"recall@{k}"] = hits / num_rel if num_rel else 0.0
        out[f"hit@{k}"] = 1.0 if hits else 0.0
        out[f"nDCG@{k}"] = _dcg(max(g, 0) for g in grades[:k]) / idcg if idcg else 0.0
    first = next((i for i, r in enumerate(rel) if r), None)
    out["MRR"] = 1.0 / (first + 1) if first is not None else 0.0
    precisions, seen = 0.0, 0
    for i, r in enumerate(rel):
        if r:
            seen += 1
            precisions += seen / (i + 1)
    out["MAP"] = precisions / num_rel if num_rel else 0.0
    return out


def evaluate_run(
    qrels: Qrels,
    run: Run,
    ks: Iterable[int] = (1, 5, 10),
    *,
    relevance_level: int = 1,
    warn: bool = True,
) -> RunMetrics:
    """Evaluate a run against judgments: P@k, recall@k, hit@k, nDCG@k, MRR and MAP.

    :param qrels: query id -> document id -> grade (0 = judged not relevant).
    :param run: query id -> document id -> score (higher is better).
    :param ks: cutoffs, each >= 1.
    :param relevance_level: the lowest grade that counts as relevant (trec_eval ``-l``).
    :param warn: emit a :class:`UserWarning` for run queries without judgments.
    :raises InputError: no judged query, or a cutoff below 1.
    """
    cutoffs = tuple(int(k) for k in ks)
    if not cutoffs or min(cutoffs) < 1:
        raise InputError(f"Cutoffs must be whole numbers >= 1, got {list(ks)}.")
    if not qrels:
        raise InputError("No judgments given: the qrels are empty, so nothing can be measured.")
    per_query: dict[str, dict[str, float]] = {}
    missing: list[str] = []
    for qid, judgments in qrels.items():
        results = run.get(qid) or {}
        if not results:
            missing.append(qid)
        per_query[qid] = query_metrics(judgments, rank(results), cutoffs, relevance_level)
    ignored = sorted(q for q in run if q not in qrels)
    if ignored and warn:
        warnings.warn(
            f"{len(ignored)} run queries have no judgments and were left out "
            f"(e.g. {', '.join(ignored[:3])}).",
            stacklevel=2,
        )
    names = metric_names(cutoffs)
    n = len(per_query)
    mean = {m: math.fsum(v[m] for v in per_query.values()) / n for m in names}
    return RunMetrics(cutoffs, per_query, mean, missing, ignored)


def results_to_run(rankings: Mapping[str, list[tuple[str, float]]]) -> dict[str, dict[str, float]]:
    """Turn ``qid -> [(docid, score), ...]`` into the ``qid -> {docid: score}`` run shape."""
    return {q: {str(d): float(s) for d, s in hits} for q, hits in rankings.items()}


__all__ = [
    "CUTOFF_METRICS",
    "TREC_NAMES",
    "WHOLE_METRICS",
    "RunMetrics",
    "evaluate_run",
    "metric_names",
    "query_metrics",
    "rank",
    "results_to_run",
    "trec_name",
]
