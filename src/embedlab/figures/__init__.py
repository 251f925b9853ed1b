"""Figures: Plotly figures built in Python, so a notebook and the web lab show the same chart.

Each module returns ``plotly.graph_objects.Figure``; the web routes send
``json.loads(fig.to_json())`` and the page calls ``Plotly.newPlot(div, fig.data, fig.layout)``.
"""

from __future__ import annotations

from embedlab.figures.vectors import dimension_bars, parallelogram, similarity_heatmap

__all__ = ["dimension_bars", "parallelogram", "similarity_heatmap"]
