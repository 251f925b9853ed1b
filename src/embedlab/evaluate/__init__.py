"""Measure: IR metrics equal to trec_eval, data set loaders, word and sentence benchmarks,
the retrieval grid, reports and the cost calculator."""

from embedlab.evaluate.metrics import RunMetrics, evaluate_run, metric_names

__all__ = ["RunMetrics", "evaluate_run", "metric_names"]
