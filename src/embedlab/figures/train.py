"""Training figures: loss curves, the word-pair similarity trace, InfoNCE vs temperature,
and retrieval before/after fine-tuning (the same charts in a notebook and the web lab)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from embedlab.train.infonce import InfoNCEExplanation
from embedlab.train.retrieval_eval import RetrievalScore
from embedlab.train.word2vec import EpochRecord


def loss_curve(
    points: Sequence[tuple[float, float]], title: str = "Training loss", x_label: str = "step"
) -> go.Figure:
    """Loss against step (or epoch)."""
    fig = go.Figure(
        go.Scatter(
            x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers", name="loss"
        )
    )
    fig.update_layout(
        title=title, xaxis_title=x_label, yaxis_title="loss", height=320, margin={"t": 50}
    )
    return fig


def similarity_trace(
    history: Sequence[EpochRecord], title: str = "Cosine of watched pairs per epoch"
) -> go.Figure:
    """One line per watched pair from word2vec's :class:`EpochRecord` list."""
    fig = go.Figure()
    pairs = list(history[0].similarities) if history else []
    for pair in pairs:
        fig.add_trace(
            go.Scatter(
                x=[h.epoch for h in history],
                y=[h.similarities[pair] for h in history],
                mode="lines+markers",
                name=pair.replace("|", " ~ "),
            )
        )
    fig.update_layout(
        title=title, xaxis_title="epoch", yaxis_title="cosine", height=320, margin={"t": 50}
    )
    return fig


def infonce_sweep(ex: InfoNCEExplanation) -> go.Figure:
    """Loss, P(positive) and the gradient from the hardest and easiest negative vs temperature."""
    t = [p.temperature for p in ex.points]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t, y=[p.loss for p in ex.points], name="loss", mode="lines"))
    fig.add_trace(
        go.Scatter(
            x=t, y=[p.p_positive for p in ex.points], name="P(positive)", mode="lines", yaxis="y2"
        )
    )
    for label, i in (("hardest", ex.hardest), ("easiest", ex.easiest)):
        fig.add_trace(
            go.Scatter(
                x=t,
                y=[p.grad_similarities[1 + i] for p in ex.points],
                name=f"∂L/∂s {label} negative",
                mode="lines",
                line={"dash": "dot"},
            )
        )
    fig.update_layout(
        title="InfoNCE as the temperature changes",
        xaxis={"title": "temperature τ", "type": "log"},
        yaxis={"title": "loss / gradient"},
        yaxis2={"title": "P(positive)", "overlaying": "y", "side": "right", "range": [0, 1]},
        height=380,
        margin={"t": 50},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def before_after(
    before: Sequence[RetrievalScore], after: Sequence[RetrievalScore], metric: str = "recall@10"
) -> go.Figure:
    """Grouped bars: ``metric`` per dimension before and after training."""
    fig = go.Figure()
    for label, scores in (("before", before), ("after", after)):
        fig.add_trace(
            go.Bar(
                x=[str(s.dims) for s in scores], y=[s.metrics[metric] for s in scores], name=label
            )
        )
    fig.update_layout(
        title=f"{metric} on the held-out split",
        xaxis_title="dimensions",
        yaxis_title=metric,
        barmode="group",
        height=320,
    )
    return fig
