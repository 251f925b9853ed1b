"""Reports: one table (and its figures) written as HTML, JSON or CSV, chosen by suffix.

The HTML report is self-contained: plotly.js is inlined from the installed ``plotly``
package, and the per-query results ship as JSON with a small script that lists the queries
that got worse between two configurations first (any two can be picked on the page).
"""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.errors import InputError
from embedlab.evaluate.grid import GridResult


@dataclass
class Report:
    """A titled table with figures, notes and a JSON payload."""

    title: str
    rows: list[dict[str, Any]]
    columns: list[str]
    figures: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    per_query: dict[str, Any] | None = None


def compare_queries(
    grid: GridResult, a: str, b: str, metric: str | None = None
) -> list[dict[str, Any]]:
    """Per query: ``metric`` under configurations ``a`` and ``b``, worst change (b - a) first."""
    by = {r.config.label: r for r in grid.results}
    for label in (a, b):
        if label not in by:
            raise InputError(f"No configuration {label!r}; there are: {', '.join(by)}.")
    m = metric or grid.primary
    out = []
    for qid, text in grid.queries.items():
        va, vb = by[a].metrics.per_query[qid][m], by[b].metrics.per_query[qid][m]
        out.append({"qid": qid, "query": text, "a": va, "b": vb, "delta": vb - va})
    return sorted(out, key=lambda r: (r["delta"], r["qid"]))


def default_pair(grid: GridResult) -> tuple[str, str]:
    """The two configurations compared by default: the best one on the primary metric, and
    the one with the smallest vectors (what going cheap loses); the first and last row when
    sizes do not tell them apart."""
    rows = grid.rows()
    if len(rows) < 2:
        return rows[0]["config"], rows[0]["config"]
    best = max(rows, key=lambda r: r[grid.primary])
    sized = [r for r in rows if r["bytes_per_vector"] is not None and r is not best]
    cheap = min(sized, key=lambda r: (r["bytes_per_vector"], -r[grid.primary])) if sized else None
    if cheap is None:
        return rows[0]["config"], rows[-1]["config"]
    return best["config"], cheap["config"]


def grid_report(grid: GridResult, title: str | None = None) -> Report:
    """The retrieval grid as a report: table, notes, per-query comparison data.

    Its figures are drawn by the figures layer (:func:`embedlab.figures.evaluate.add_grid_figures`):
    evaluate never imports figures.
    """
    rows = grid.rows()
    columns = [
        "config",
        *grid.metric_names,
        "bytes_per_vector",
        "index_mb",
        "search_ms",
        "embed_ms",
        "latency_ms",
    ]
    ds = grid.dataset
    notes = [
        f"{ds['documents']} documents, {ds['queries']} judged queries, {ds['judgments']} "
        f"judgments; grid ran in {grid.seconds:.1f} s.",
        *[
            f"{name}: corpus embedded in {e['seconds']:.1f} s"
            + (" (from the cache)" if e["cached"] else "")
            + f"; one query embeds in {e['query_embed_ms']:.1f} ms."
            for name, e in grid.embedding.items()
        ],
        "Latency: median of single queries on one thread; sizes count vectors only "
        "(plus the BM25 index for hybrid).",
        *ds.get("notes", []),
    ]
    labels = [r.config.label for r in grid.results]
    per_query = {
        "metric": grid.primary,
        "metrics": grid.metric_names,
        "queries": grid.queries,
        "configs": labels,
        "values": {r.config.label: r.metrics.per_query for r in grid.results},
        "ranked": {r.config.label: {q: d[:3] for q, d in r.ranked.items()} for r in grid.results},
        "a": default_pair(grid)[0],
        "b": default_pair(grid)[1],
    }
    return Report(
        title or f"Retrieval evaluation: {ds['name']}",
        rows,
        columns,
        [],
        notes,
        grid.to_dict(),
        per_query,
    )


# --- writers ---------------------------------------------------------------------------


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 100 else f"{v:.1f}"
    return str(v)


def write_json(report: Report, path: Path) -> None:
    data = {
        "title": report.title,
        "columns": report.columns,
        "rows": report.rows,
        "notes": report.notes,
        **report.payload,
    }
    path.write_text(json.dumps(data, indent=2, default=float, ensure_ascii=False), encoding="utf-8")


def write_csv(report: Report, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=report.columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(report.rows)


_COMPARE_JS = """
const PQ = JSON.parse(document.getElementById('per-query-data').textContent);
function fill(sel, value) {
  for (const c of PQ.configs) { const o = document.createElement('option'); o.value = c;
    o.textContent = c; if (c === value) o.selected = true; sel.append(o); }
}
function esc(s) { const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
function render() {
  const a = document.getElementById('cfg-a').value, b = document.getElementById('cfg-b').value;
  const m = document.getElementById('cfg-m').value;
  const rows = Object.entries(PQ.queries).map(([q, text]) => {
    const va = PQ.values[a][q][m], vb = PQ.values[b][q][m];
    return {q, text, va, vb, d: vb - va};
  }).sort((x, y) => x.d - y.d || (x.q < y.q ? -1 : 1));
  const worse = rows.filter(r => r.d < 0).length, better = rows.filter(r => r.d > 0).length;
  document.getElementById('cmp-summary').textContent =
    `${worse} queries worse, ${better} better, ${rows.length - worse - better} unchanged (${m}).`;
  document.getElementById('cmp-body').innerHTML = rows.map(r =>
    `<tr class="${r.d < 0 ? 'worse' : r.d > 0 ? 'better' : ''}"><td>${esc(r.q)}</td>` +
    `<td>${esc(r.text)}</td><td>${r.va.toFixed(3)}</td><td>${r.vb.toFixed(3)}</td>` +
    `<td>${r.d.toFixed(3)}</td><td>${esc((PQ.ranked[a][r.q] || []).join(', '))}</td>` +
    `<td>${esc((PQ.ranked[b][r.q] || []).join(', '))}</td></tr>`).join('');
}
fill(document.getElementById('cfg-a'), PQ.a); fill(document.getElementById('cfg-b'), PQ.b);
for (const m of PQ.metrics) { const o = document.createElement('option'); o.value = m;
  o.textContent = m; if (m === PQ.metric) o.selected = true;
  document.getElementById('cfg-m').append(o); }
for (const id of ['cfg-a', 'cfg-b', 'cfg-m'])
  document.getElementById(id).addEventListener('change', render);
render();
"""

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1rem 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f4f4f4} td:first-child,th:first-child{text-align:left;white-space:nowrap}
tr.worse{background:#fde2e2} tr.better{background:#e2f5e2}
.notes li{color:#555;font-size:13px}
"""


def _table_html(report: Report) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in report.columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in report.columns)
        + "</tr>"
        for r in report.rows
    )
    return f'<table id="results"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _per_query_html(report: Report) -> str:
    if not report.per_query:
        return ""
    data = json.dumps(report.per_query, default=float).replace("</", "<\\/")
    return (
        "<h2>Per query</h2><p>Compare <select id='cfg-a'></select> with "
        "<select id='cfg-b'></select> on <select id='cfg-m'></select>: the queries that got "
        "worse come first.</p><p id='cmp-summary'></p>"
        "<table id='per-query'><thead><tr><th>query id</th><th>query</th><th>A</th><th>B</th>"
        "<th>B - A</th><th>top 3 in A</th><th>top 3 in B</th></tr></thead>"
        "<tbody id='cmp-body'></tbody></table>"
        f"<script type='application/json' id='per-query-data'>{data}</script>"
        f"<script>{_COMPARE_JS}</script>"
    )


def write_html(report: Report, path: Path) -> None:
    """A self-contained page: plotly.js inlined, no network needed to open it."""
    from plotly.offline import get_plotlyjs

    figures = "".join(
        f.to_html(full_html=False, include_plotlyjs=False, default_width="100%")
        for f in report.figures
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(report.title)}"
        f"</title><style>{_CSS}</style><script>{get_plotlyjs()}</script></head><body>"
        f"<h1>{html.escape(report.title)}</h1><ul class='notes'>{notes}</ul>"
        f"{_table_html(report)}{figures}{_per_query_html(report)}</body></html>"
    )
    path.write_text(page, encoding="utf-8")


WRITERS: dict[str, Callable[[Report, Path], None]] = {
    ".html": write_html,
    ".json": write_json,
    ".csv": write_csv,
}


def write_report(report: Report, path: str | Path) -> Path:
    """Write ``report`` in the format its suffix names (``.html``, ``.json``, ``.csv``)."""
    p = Path(path)
    writer = WRITERS.get(p.suffix.lower())
    if writer is None:
        raise InputError(
            f"Cannot write a report as {p.suffix or 'a file without suffix'}: "
            f"use one of {', '.join(WRITERS)}."
        )
    p.parent.mkdir(parents=True, exist_ok=True)
    writer(report, p)
    return p


def simple_report(
    title: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    figures: Sequence[Any] = (),
    notes: Sequence[str] = (),
    payload: dict[str, Any] | None = None,
) -> Report:
    """A report of any table (word and sentence benchmarks, cost estimates)."""
    return Report(title, list(rows), list(columns), list(figures), list(notes), payload or {})


__all__ = [
    "WRITERS",
    "Report",
    "compare_queries",
    "default_pair",
    "grid_report",
    "simple_report",
    "write_report",
]
