"""Figures of vectors: every dimension as a bar, a similarity heatmap, an analogy's parallelogram."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "NEGATIVE",
    "POSITIVE",
    "dimension_bars",
    "parallelogram",
    "pca_2d",
    "similarity_heatmap",
]

POSITIVE = "#2f6fdb"
NEGATIVE = "#e8590c"
_FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13}


def _layout(fig: go.Figure, title: str | None, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title or "", "x": 0.01, "font": {"size": 15}},
        height=height,
        margin={"l": 50, "r": 20, "t": 44 if title else 16, "b": 40},
        font=_FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
    )
    return fig


def _short(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def dimension_bars(vector: np.ndarray, title: str | None = None, height: int = 300) -> go.Figure:
    """One bar per dimension: positive values in blue, negative in orange; hover shows both.

    :param vector: a 1-D vector (any length).
    """
    v = np.asarray(vector, dtype=np.float64).ravel()
    dims = np.arange(v.size)
    fig = go.Figure(
        go.Bar(
            x=dims,
            y=v,
            marker={"color": np.where(v >= 0, POSITIVE, NEGATIVE).tolist(), "line": {"width": 0}},
            hovertemplate="dim %{x}<br>value %{y:.5f}<extra></extra>",
            name="value",
        )
    )
    fig.update_xaxes(title_text="dimension", range=[-0.5, v.size - 0.5], showgrid=False)
    fig.update_yaxes(
        title_text="value", zeroline=True, zerolinecolor="#98a2b3", gridcolor="#eef0f5"
    )
    fig.update_layout(bargap=0.05 if v.size > 100 else 0.2, showlegend=False)
    return _layout(fig, title, height)


def similarity_heatmap(
    matrix: np.ndarray,
    labels: Sequence[str],
    title: str | None = None,
    *,
    zmin: float | None = None,
    zmax: float | None = None,
    height: int | None = None,
) -> go.Figure:
    """An N x N heatmap of scores with the value written in each cell (when N is small).

    :param labels: one label per row/column (long texts are shortened on the axes; the full
        text shows on hover).
    """
    m = np.asarray(matrix, dtype=np.float64)
    n = m.shape[0]
    short = [f"{i + 1}. {_short(t)}" for i, t in enumerate(labels)]
    full = [[f"{labels[i]}<br>↔ {labels[j]}" for j in range(n)] for i in range(n)]
    heat = go.Heatmap(
        z=m,
        x=short,
        y=short,
        zmin=zmin,
        zmax=zmax,
        colorscale="Blues",
        customdata=full,
        hovertemplate="%{customdata}<br>score %{z:.4f}<extra></extra>",
        texttemplate="%{z:.2f}" if n <= 15 else None,
        colorbar={"thickness": 12},
    )
    fig = go.Figure(heat)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-30)
    return _layout(fig, title, height or max(320, 120 + 42 * n))


def pca_2d(points: np.ndarray) -> np.ndarray:
    """Project rows to their first two principal components (centred SVD)."""
    x = np.asarray(points, dtype=np.float64)
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    out: np.ndarray = centred @ vt[:2].T
    if out.shape[1] < 2:
        out = np.hstack([out, np.zeros((len(out), 2 - out.shape[1]))])
    return out


def parallelogram(
    vectors: Mapping[str, np.ndarray],
    a: str,
    b: str,
    c: str,
    answers: Sequence[str] = (),
    title: str | None = None,
    height: int = 420,
) -> go.Figure:
    """``a - b + c`` drawn in 2-D: the three inputs, the target point and the answers.

    The four corners b -> a and c -> target form the parallelogram the analogy assumes; the
    answers show where the nearest real words or texts sit. The projection is a PCA of
    these points only (unit vectors), so distances are only roughly kept.

    :param vectors: text -> vector for ``a``, ``b``, ``c`` and every name in ``answers``.
    """
    unit = {
        k: np.asarray(v, dtype=np.float64) / (np.linalg.norm(v) or 1.0) for k, v in vectors.items()
    }
    target = unit[a] - unit[b] + unit[c]
    names = [a, b, c]
    extra = [t for t in answers if t in unit and t not in names]
    rows = np.vstack([unit[a], unit[b], unit[c], target, *[unit[t] for t in extra]])
    xy = pca_2d(rows)
    pa, pb, pc, pt = xy[0], xy[1], xy[2], xy[3]
    fig = go.Figure()
    edges = [(pb, pa, "#98a2b3"), (pc, pt, "#98a2b3"), (pb, pc, "#d0d5dd"), (pa, pt, "#d0d5dd")]
    for p, q, colour in edges:
        fig.add_trace(
            go.Scatter(
                x=[p[0], q[0]], y=[p[1], q[1]], mode="lines", hoverinfo="skip",
                line={"color": colour, "width": 2, "dash": "dot" if colour == "#d0d5dd" else "solid"},
                showlegend=False,
            )
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=xy[:3, 0], y=xy[:3, 1], mode="markers+text", text=[a, b, c],
            textposition="top center", name="inputs",
            marker={"size": 13, "color": POSITIVE},
            hovertemplate="%{text}<extra>input</extra>",
        )
    )  # fmt: skip
    expr = f"{a} - {b} + {c}"
    fig.add_trace(
        go.Scatter(
            x=[pt[0]], y=[pt[1]], mode="markers+text", text=[expr], textposition="bottom center",
            name="a - b + c", marker={"size": 14, "color": "#1d2330", "symbol": "x"},
            hovertemplate="%{text}<extra>target</extra>",
        )
    )  # fmt: skip
    if extra:
        fig.add_trace(
            go.Scatter(
                x=xy[4:, 0], y=xy[4:, 1], mode="markers+text", text=extra,
                textposition="top center", name="answers",
                marker={"size": 12, "color": NEGATIVE, "symbol": "diamond"},
                hovertemplate="%{text}<extra>answer</extra>",
            )
        )  # fmt: skip
    fig.update_xaxes(title_text="PC 1", zeroline=False, gridcolor="#eef0f5")
    fig.update_yaxes(title_text="PC 2", zeroline=False, gridcolor="#eef0f5", scaleanchor="x")
    fig.update_layout(legend={"orientation": "h", "y": -0.18})
    return _layout(fig, title, height)
