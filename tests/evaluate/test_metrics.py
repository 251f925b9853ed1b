"""evaluate_run against trec_eval (pytrec_eval) on real runs and on edge cases."""

from __future__ import annotations

import random
import warnings

import pytest
import pytrec_eval

from embedlab.errors import InputError
from embedlab.evaluate.metrics import evaluate_run, rank, trec_name

KS = (1, 3, 5, 10, 20)


def check_against_trec(qrels, run, ks=KS) -> None:
    """Every metric of every judged query in the run, and the mean over judged queries."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = evaluate_run(qrels, run, ks)
    names = ours.names
    evaluator = pytrec_eval.RelevanceEvaluator(
        {q: dict(j) for q, j in qrels.items()}, {trec_name(n) for n in names}
    )
    ref = evaluator.evaluate({q: dict(r) for q, r in run.items() if r})
    for qid, values in ours.per_query.items():
        for name in names:
            expected = ref[qid][trec_name(name)] if qid in ref else 0.0
            assert values[name] == pytest.approx(expected, abs=1e-6), (qid, name)
    for name in names:  # trec_eval -c: judged queries without results count as zero
        total = sum(ref[q][trec_name(name)] for q in ref)
        assert ours.mean[name] == pytest.approx(total / len(qrels), abs=1e-6), name


def dense_run(news_run, k: int) -> dict[str, dict[str, float]]:
    run = {}
    for i in range(len(news_run.titles)):
        row = news_run.scores[i]
        top = row.argsort()[::-1][:k]
        run[news_run.qids[i]] = {news_run.doc_ids[j]: float(row[j]) for j in top}
    return run


def test_real_run_binary(news_run) -> None:
    qrels = news_run.dataset.qrels
    run = dense_run(news_run, 20)
    check_against_trec(qrels, run)
    ours = evaluate_run(qrels, run)
    assert 0.5 < ours.mean["MRR"] <= 1.0  # titles find their own article most of the time


def test_real_run_graded_and_partial(news_run) -> None:
    rng = random.Random(7)
    qrels = {}
    for i, d in enumerate(news_run.doc_ids):
        extra = rng.sample(news_run.doc_ids, 4)
        qrels[news_run.qids[i]] = {d: 3, **{e: rng.randint(0, 2) for e in extra if e != d}}
    run = dense_run(news_run, 15)
    for q in list(run)[::10]:  # some judged queries without results
        run[q] = {}
    check_against_trec(qrels, run)


def test_ties_broken_by_docid_descending() -> None:
    run = {"q": {"a": 1.0, "b": 1.0, "c": 2.0, "d": 1.0}}
    assert rank(run["q"]) == ["c", "d", "b", "a"]
    qrels = {"q": {"a": 1, "b": 2, "c": 0}}
    check_against_trec(qrels, run)
    assert evaluate_run(qrels, run).per_query["q"]["MRR"] == pytest.approx(1 / 3)


def test_all_tied_scores() -> None:
    run = {"q": {f"d{i:02d}": 0.5 for i in range(30)}}
    qrels = {"q": {"d00": 1, "d15": 2, "d29": 1, "zz": 1}}
    check_against_trec(qrels, run)


def test_empty_and_missing_runs_count_zero() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1}}
    run = {"q1": {"a": 1.0}, "q2": {}}
    res = evaluate_run(qrels, run)
    assert res.mean["MRR"] == pytest.approx(1 / 3)
    assert sorted(res.missing) == ["q2", "q3"]
    check_against_trec(qrels, run)


def test_unjudged_run_queries_ignored_and_warned() -> None:
    qrels = {"q1": {"a": 1}}
    run = {"q1": {"a": 1.0}, "other": {"x": 1.0}}
    with pytest.warns(UserWarning, match="no judgments"):
        res = evaluate_run(qrels, run)
    assert res.ignored == ["other"] and res.mean["P@1"] == 1.0
    check_against_trec(qrels, run)


def test_graded_ndcg_and_nonrelevant_only_query() -> None:
    qrels = {"q1": {"a": 3, "b": 2, "c": 1, "d": 0}, "q2": {"x": 0, "y": 0}}
    run = {"q1": {"d": 4.0, "c": 3.0, "b": 2.0, "a": 1.0, "e": 0.5}, "q2": {"x": 1.0}}
    check_against_trec(qrels, run)
    assert evaluate_run(qrels, run).per_query["q2"]["nDCG@5"] == 0.0


def test_relevance_threshold() -> None:
    qrels = {"q": {"a": 1, "b": 2}}
    run = {"q": {"a": 2.0, "b": 1.0}}
    res = evaluate_run(qrels, run, relevance_level=2)
    assert res.per_query["q"]["MRR"] == 0.5
    ev = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}, relevance_level=2)
    assert ev.evaluate(run)["q"]["recip_rank"] == pytest.approx(0.5)


def test_k_larger_than_run() -> None:
    qrels = {"q": {"a": 1, "b": 1, "c": 1}}
    run = {"q": {"a": 0.9, "z": 0.8}}
    check_against_trec(qrels, run, ks=(1, 5, 100))
    assert evaluate_run(qrels, run, ks=(100,)).per_query["q"]["P@100"] == pytest.approx(0.01)


def test_random_runs_fuzz() -> None:
    rng = random.Random(1)
    docs = [f"d{i}" for i in range(40)]
    qrels, run = {}, {}
    for q in range(60):
        qrels[f"q{q}"] = {
            d: rng.choice([0, 1, 1, 2, 3]) for d in rng.sample(docs, rng.randint(1, 8))
        }
        n = rng.randint(0, 25)
        run[f"q{q}"] = {d: round(rng.random(), 1) for d in rng.sample(docs, n)}  # many ties
    check_against_trec(qrels, run)


def test_bad_input() -> None:
    with pytest.raises(InputError, match="empty"):
        evaluate_run({}, {"q": {"a": 1.0}})
    with pytest.raises(InputError, match=">= 1"):
        evaluate_run({"q": {"a": 1}}, {}, ks=(0,))
