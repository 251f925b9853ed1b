"""Figures of corpus maps: a WebGL scatter (``go.Scattergl``) that stays fluid at 100k points.

:func:`map_figure` colours points by cluster, a field, their source or their per-point
trust; hover shows the (truncated) text; every trace carries the row index of each point in
``customdata`` so a click can ask for its neighbours. :func:`map_html` is the standalone
page the CLI writes (plotly.js inlined, so it opens offline).
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from embedlab.maps.build import CorpusMap, QueryPlacement

#: most categories drawn as their own trace; the rest share one "other" trace.
MAX_CATEGORIES = 24
HOVER_CHARS = 140
NOISE_LABEL = "noise"
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
    "#756bb1",
    "#636363",
    "#6baed6",
    "#fd8d3c",
    "#74c476",
    "#9e9ac8",
]


def _short(text: str, n: int = HOVER_CHARS) -> str:
    text = " ".join(text.split())
    text = text if len(text) <= n else text[: n - 1] + "…"
    return html.escape(text)


def _marker_size(n: int) -> float:
    return 7.0 if n < 2000 else 4.0 if n < 20_000 else 2.5


def _points(
    m: CorpusMap, rows: np.ndarray, name: str, hover: list[str], **marker: Any
) -> go.Scattergl:
    return go.Scattergl(
        x=m.coords[rows, 0],
        y=m.coords[rows, 1],
        mode="markers",
        name=name,
        customdata=rows,
        hovertext=[hover[i] for i in rows],
        hovertemplate="%{hovertext}<extra>%{fullData.name}</extra>",
        marker={"size": _marker_size(len(m.corpus)), "opacity": 0.8, **marker},
    )


def _categorical(m: CorpusMap, values: list[str], hover: list[str]) -> list[go.Scattergl]:
    counts = Counter(v for v in values if v != NOISE_LABEL)
    top = [v for v, _ in counts.most_common(MAX_CATEGORIES)]
    keep = set(top) | {NOISE_LABEL}
    arr = np.array(["\x00other" if v not in keep else v for v in values], dtype=object)
    traces = []
    for colour, value in zip(PALETTE, top, strict=False):
        rows = np.flatnonzero(arr == value)
        traces.append(_points(m, rows, f"{value or '(empty)'} ({len(rows)})", hover, color=colour))
    noise = np.flatnonzero(arr == NOISE_LABEL)
    if len(noise):  # HDBSCAN's unclustered points: grey, drawn last
        traces.append(_points(m, noise, f"unclustered ({len(noise)})", hover, color="#b0b0b0"))
    rest = np.flatnonzero(arr == "\x00other")
    if len(rest):
        traces.append(_points(m, rest, f"other ({len(rest)})", hover, color="#bbbbbb"))
    return traces


def _continuous(m: CorpusMap, values: np.ndarray, hover: list[str]) -> list[go.Scattergl]:
    known = np.flatnonzero(~np.isnan(values))
    traces = [
        _points(
            m,
            known,
            "neighbours kept",
            hover,
            color=values[known],
            colorscale="RdYlGn",
            cmin=0.0,
            cmax=1.0,
            colorbar={"title": {"text": f"share of {m.trust.k}-NN kept"}, "thickness": 12},
        )
    ]
    unknown = np.flatnonzero(np.isnan(values))
    if len(unknown):
        traces.append(_points(m, unknown, "not scored", hover, color="#cccccc"))
    return traces


def _cluster_labels(m: CorpusMap, limit: int = 30) -> list[dict[str, Any]]:
    notes = []
    for c in m.clustering.clusters[:limit]:
        rows = np.flatnonzero(m.clustering.labels == c.id)
        x, y = np.median(m.coords[rows], axis=0)
        notes.append(
            {
                "x": float(x),
                "y": float(y),
                "text": f"<b>{html.escape(c.label)}</b>",
                "showarrow": False,
                "font": {"size": 12, "color": "#222"},
                "bgcolor": "rgba(255,255,255,0.7)",
            }
        )
    return notes


def title_of(m: CorpusMap) -> str:
    """The figure title: method, size and the trust scores (shown with every map)."""
    title = (
        f"{m.projection.method.upper()} map of {len(m.corpus):,} texts · trustworthiness "
        f"{m.trust.trustworthiness:.2f} · {m.trust.k}-NN kept {m.trust.neighbours_kept:.0%}"
    )
    if m.separability is not None:
        title += f" · sources told apart {m.separability.accuracy:.0%}"
    return title


def map_figure(
    m: CorpusMap,
    color_by: str = "cluster",
    *,
    highlight: int | None = None,
    neighbours: list[int] | None = None,
    query: QueryPlacement | None = None,
    labels: bool = True,
    outliers: bool = True,
) -> go.Figure:
    """The scatter of a map.

    :param color_by: ``cluster``, ``trust``, ``outlier``, ``source`` or any corpus field.
    :param highlight: a row to mark (the clicked point).
    :param neighbours: rows to ring (its true nearest neighbours in the full space).
    :param query: a placed query, drawn as a star with its nearest documents ringed.
    :param labels: write each cluster's words at its centre.
    :param outliers: overlay the flagged outliers as crosses.
    """
    hover = [_short(t) for t in m.corpus.texts]
    values = m.colour_values(color_by)
    if isinstance(values, np.ndarray):
        traces = _continuous(m, values, hover)
    else:
        traces = _categorical(m, list(values), hover)
    if outliers and len(m.outliers.indices):
        traces.append(
            _points(
                m,
                m.outliers.indices,
                f"outliers ({len(m.outliers.indices)})",
                hover,
                color="#000",
                symbol="x",
                size=_marker_size(len(m.corpus)) + 3,
            )
        )
    ring = list(neighbours or []) + ([j for j, _ in query.neighbours] if query else [])
    if ring:
        traces.append(
            _points(
                m,
                np.array(ring, dtype=np.int64),
                "nearest in full space",
                hover,
                color="rgba(0,0,0,0)",
                size=14,
                symbol="circle-open",
                line={"width": 2, "color": "#000"},
            )
        )
    if highlight is not None:
        traces.append(
            _points(
                m,
                np.array([highlight]),
                "selected",
                hover,
                color="#d62728",
                size=16,
                symbol="diamond",
            )
        )
    if query is not None:
        traces.append(
            go.Scattergl(
                x=[query.x],
                y=[query.y],
                mode="markers",
                name="query",
                hovertext=[_short(query.text)],
                hovertemplate="query: %{hovertext}<extra></extra>",
                marker={"size": 20, "symbol": "star", "color": "#d62728", "line": {"width": 1}},
            )
        )
    fig = go.Figure(data=traces)
    fig.update_layout(
        title={"text": title_of(m), "font": {"size": 14}},
        template="plotly_white",
        hovermode="closest",
        dragmode="pan",
        xaxis={"showticklabels": False, "zeroline": False, "title": ""},
        yaxis={"showticklabels": False, "zeroline": False, "title": "", "scaleanchor": "x"},
        legend={"itemsizing": "constant", "title": {"text": color_by}},
        annotations=_cluster_labels(m) if labels else [],
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        uirevision=m.key,
    )
    return fig


def _summary_html(m: CorpusMap) -> str:
    t = m.trust
    parts = [
        f"<p><b>Trust</b>: trustworthiness {t.trustworthiness:.3f}; on average "
        f"{t.neighbours_kept:.1%} of each point's {t.k} nearest neighbours in the full space "
        f"are also its nearest on the map ({html.escape(t.note)}). Colour by trust to see "
        "where the picture misleads.</p>",
        f"<p>{html.escape(m.note)}</p>",
    ]
    if m.separability is not None:
        parts.append(f"<p><b>Sources</b>: {html.escape(m.separability.verdict)}</p>")
    rows = "".join(
        f"<tr><td>{c.id}</td><td>{c.size}</td><td>{html.escape(', '.join(c.words))}</td></tr>"
        for c in m.clustering.clusters
    )
    parts.append(
        f"<h3>Clusters ({html.escape(m.clustering.method)})</h3><table>"
        f"<tr><th>id</th><th>size</th><th>distinctive words</th></tr>{rows}</table>"
    )
    items = "".join(
        f"<li>{_short(m.corpus.texts[i], 200)} <small>(score {m.outliers.scores[i]:.2f})</small></li>"
        for i in m.outliers.indices[:50]
    )
    parts.append(f"<h3>Outliers</h3><p>{html.escape(m.outliers.note)}</p><ol>{items}</ol>")
    return "\n".join(parts)


def map_html(m: CorpusMap, fig: go.Figure, path: str | Path) -> Path:
    """Write a standalone HTML page (plotly.js inlined): the figure, trust, clusters, outliers."""
    path = Path(path)
    body = fig.to_html(full_html=False, include_plotlyjs=True, default_height="80vh")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title_of(m))}</title><style>body{{font-family:sans-serif;"
        "margin:1em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ddd;"
        "padding:2px 6px;text-align:left}}</style></head><body>"
        f"{body}{_summary_html(m)}</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path


__all__ = ["map_figure", "map_html", "title_of"]
