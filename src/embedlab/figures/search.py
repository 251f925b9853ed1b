"""Figures of the Search page: a slope chart of each result's rank through the stages, and
the storage/latency chart of the dense first stages."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from embedlab.search.costs import CostRow
from embedlab.search.explain import STAGE_LABELS
from embedlab.search.pipeline import SearchResult


def _label(text: str, width: int = 40) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def rank_movement_figure(result: SearchResult) -> go.Figure:
    """One line per final hit across the stages that ran (rank 1 at the top).

    A stage where the hit was not returned is left as a gap; the line's colour says whether
    the hit ended higher (green) or lower (red) than in the first stage.
    """
    stages = result.stage_names
    labels = [STAGE_LABELS.get(s, s) for s in stages]
    fig = go.Figure()
    for hit in result.hits:
        ranks = [hit.stages[s].rank for s in stages]
        start = next((r for r in ranks if r is not None), hit.rank)
        colour = "#2ca02c" if hit.rank < start else "#d62728" if hit.rank > start else "#1f77b4"
        name = _label(hit.chunk.title or hit.chunk.text)
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=ranks,
                mode="lines+markers+text",
                name=f"#{hit.rank} {name}",
                line={"color": colour, "width": 2},
                text=[str(r) if r is not None else "" for r in ranks],
                textposition="top center",
                hovertemplate=f"{name}<br>%{{x}}: rank %{{y}}<extra></extra>",
                connectgaps=False,
            )
        )
    deepest = max(
        [r for h in result.hits for r in (t.rank for t in h.stages.values()) if r is not None]
        or [1]
    )
    fig.update_layout(
        title=f"Rank of each result through the stages ({result.mode})",
        xaxis={"title": "stage", "type": "category"},
        yaxis={"title": "rank", "autorange": False, "range": [deepest + 0.5, 0.5]},
        legend={"font": {"size": 10}},
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        height=420,
    )
    return fig


def costs_figure(rows: Sequence[CostRow]) -> go.Figure:
    """Query time against bytes per vector, one point per dims/quantization choice."""
    fig = go.Figure()
    for q in dict.fromkeys(r.quantize for r in rows):
        part = [r for r in rows if r.quantize == q]
        fig.add_trace(
            go.Scatter(
                x=[r.bytes_per_vector for r in part],
                y=[r.ms_p50 for r in part],
                mode="markers+text",
                name=q or "float32",
                text=[f"{r.dims}d" for r in part],
                textposition="top center",
                customdata=[r.recall_at_k for r in part],
                hovertemplate="%{text}: %{x} B/vector, %{y:.2f} ms, recall %{customdata:.2f}"
                "<extra></extra>",
            )
        )
    fig.update_layout(
        title="Storage and query time of each first stage on this index",
        xaxis={"title": "bytes per vector", "type": "log"},
        yaxis={"title": "query time, p50 (ms)"},
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        height=360,
    )
    return fig
