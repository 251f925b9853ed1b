"""Figures of the measurements: quality against dims, against bytes per vector (with the
Pareto front), latency, and word-benchmark sections.

They take the plain row dicts of :meth:`embedlab.evaluate.grid.GridResult.rows`, so the
CLI report, a notebook and the web lab draw the same chart from the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from embedlab.evaluate.grid import pareto_front
from embedlab.evaluate.report import Report


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title=title,
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        xaxis_title=x,
        yaxis_title=y,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def _series(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by model + mode + precision (one line per group)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("dims") is None:
            continue
        out.setdefault(f"{r['model']} {r['mode']} {r['quantize']}", []).append(r)
    return out


def quality_vs_dims(rows: Sequence[dict[str, Any]], metric: str = "nDCG@10") -> go.Figure:
    """One line per (model, mode, precision): ``metric`` at each Matryoshka size; BM25 as a
    horizontal reference line."""
    fig = go.Figure()
    for name, group in _series(rows).items():
        group = sorted(group, key=lambda r: r["dims"])
        fig.add_trace(
            go.Scatter(
                x=[r["dims"] for r in group],
                y=[r[metric] for r in group],
                mode="lines+markers",
                name=name,
                hovertemplate=f"%{{x}} dims<br>{metric} %{{y:.4f}}<extra>{name}</extra>",
            )
        )
    for r in rows:
        if r.get("dims") is None:
            fig.add_hline(y=r[metric], line_dash="dot", annotation_text=r["config"])
    return _layout(fig, f"{metric} against dimensions", "dimensions kept", metric)


def quality_vs_bytes(rows: Sequence[dict[str, Any]], metric: str = "nDCG@10") -> go.Figure:
    """Every configuration at (bytes per vector, ``metric``), log x; the Pareto front (best
    quality for its size) joined and marked."""
    fig = go.Figure()
    for name, group in _series(rows).items():
        fig.add_trace(
            go.Scatter(
                x=[r["bytes_per_vector"] for r in group],
                y=[r[metric] for r in group],
                mode="markers",
                name=name,
                text=[r["config"] for r in group],
                marker={"size": 10},
                hovertemplate=f"%{{text}}<br>%{{x}} bytes/vector<br>{metric} %{{y:.4f}}<extra></extra>",
            )
        )
    front = [rows[i] for i in pareto_front(rows, metric)]
    if front:
        fig.add_trace(
            go.Scatter(
                x=[r["bytes_per_vector"] for r in front],
                y=[r[metric] for r in front],
                mode="lines+markers",
                name="Pareto front",
                text=[r["config"] for r in front],
                line={"color": "black", "dash": "dash"},
                marker={"symbol": "star", "size": 14, "color": "gold", "line": {"width": 1}},
                hovertemplate=f"Pareto: %{{text}}<br>%{{x}} bytes<br>{metric} %{{y:.4f}}<extra></extra>",
            )
        )
    fig.update_xaxes(type="log")
    return _layout(fig, f"{metric} against bytes per vector", "bytes per vector (log)", metric)


def latency_bars(rows: Sequence[dict[str, Any]]) -> go.Figure:
    """Per configuration: query embedding and search milliseconds side by side (log scale:
    embedding a query usually costs far more than searching a small index)."""
    labels = [r["config"] for r in rows]
    fig = go.Figure(
        [
            go.Bar(x=labels, y=[r.get("embed_ms") for r in rows], name="embed query"),
            go.Bar(x=labels, y=[r["search_ms"] for r in rows], name="search"),
        ]
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(type="log")
    return _layout(fig, "Latency per query (median, one thread)", "", "milliseconds (log)")


def word_sections(results: dict[str, dict[str, Any]]) -> go.Figure:
    """Analogy accuracy per section, one bar group per model (``AnalogyResult.to_dict()``)."""
    fig = go.Figure()
    for name, res in results.items():
        secs = res["sections"]
        fig.add_trace(
            go.Bar(x=[s["section"] for s in secs], y=[s["accuracy"] for s in secs], name=name)
        )
    fig.update_layout(barmode="group")
    return _layout(fig, "Analogy accuracy per section", "", "accuracy")


def cost_bars(estimates: Sequence[dict[str, Any]]) -> go.Figure:
    """RAM (MB) and extrapolated search latency of each estimate (``CostEstimate.to_dict()``)."""
    labels = [f"{e['dims']}d {e['quantize']}" for e in estimates]
    fig = go.Figure(
        [
            go.Bar(x=labels, y=[e["ram_bytes"] / 1e6 for e in estimates], name="RAM (MB)"),
            go.Scatter(
                x=labels,
                y=[e["search_ms"] for e in estimates],
                name="search ms",
                yaxis="y2",
                mode="lines+markers",
            ),
        ]
    )
    fig.update_layout(yaxis2={"title": "ms per query", "overlaying": "y", "side": "right"})
    n = estimates[0]["n_documents"] if estimates else 0
    return _layout(fig, f"Cost for {n:,} documents", "", "RAM (MB)")


def add_grid_figures(report: Report) -> Report:
    """``report`` (from :func:`embedlab.evaluate.report.grid_report`) with its three figures:
    quality against dims and against bytes, and latency."""
    primary = str((report.per_query or {})["metric"])
    report.figures = [
        quality_vs_dims(report.rows, primary),
        quality_vs_bytes(report.rows, primary),
        latency_bars(report.rows),
    ]
    return report


def add_word_figures(report: Report) -> Report:
    """``report`` (from :func:`embedlab.evaluate.suites.words_report`) with analogy sections."""
    report.figures = [word_sections(report.payload["analogies"])]
    return report


def add_sentence_figures(report: Report) -> Report:
    """``report`` (from ``sentences_report``) with Pearson and Spearman bars per model."""
    models = [r["model"] for r in report.rows]
    fig = go.Figure(
        [
            go.Bar(x=models, y=[r["pearson"] for r in report.rows], name="Pearson"),
            go.Bar(x=models, y=[r["spearman"] for r in report.rows], name="Spearman"),
        ]
    )
    fig.update_layout(
        title="Lee document similarity: correlation with human ratings",
        template="plotly_white",
        barmode="group",
    )
    report.figures = [fig]
    return report


__all__ = [
    "add_grid_figures",
    "add_sentence_figures",
    "add_word_figures",
    "cost_bars",
    "latency_bars",
    "quality_vs_bytes",
    "quality_vs_dims",
    "word_sections",
]
