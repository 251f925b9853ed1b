"""Text renderings of a :class:`~embedlab.search.pipeline.SearchResult` for the CLI."""

from __future__ import annotations

from embedlab.search.pipeline import SearchResult, StageTrace

#: stage name -> column header in ``--explain`` tables.
STAGE_LABELS: dict[str, str] = {
    "bm25": "bm25",
    "dense_first": "first stage",
    "dense": "dense",
    "fused": "fused",
    "reranked": "reranked",
}


def _cell(trace: StageTrace) -> str:
    if trace.rank is None or trace.score is None:
        return "-"
    return f"#{trace.rank} ({trace.score:.4g})"


def _snippet(text: str, width: int = 70) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def movement(result: SearchResult, rank: int, first: str) -> str:
    """'+3' / '-2' / '=' / 'new': how the hit moved from stage ``first`` to its final rank."""
    hit = result.hits[rank - 1]
    start = hit.stages.get(first)
    if start is None or start.rank is None:
        return "new"
    delta = start.rank - hit.rank
    return "=" if delta == 0 else f"{delta:+d}"


def format_hits(result: SearchResult) -> str:
    """One line per hit: rank, score, title or source, and a snippet."""
    lines = []
    for hit in result.hits:
        label = hit.chunk.title or hit.chunk.source
        lines.append(f"{hit.rank:>3}. {hit.score:8.4f}  {label}")
        lines.append(f"       {_snippet(hit.chunk.text)}")
    if not result.hits:
        lines.append("No results.")
    return "\n".join(lines)


def format_explain(result: SearchResult) -> str:
    """A table of each hit's rank and score at every stage and how far it moved."""
    stages = result.stage_names
    first = stages[0] if stages else ""
    headers = ["rank", *(STAGE_LABELS.get(s, s) for s in stages), f"moved (vs {first})", "chunk"]
    rows = [
        [
            str(hit.rank),
            *(_cell(hit.stages[s]) for s in stages),
            movement(result, hit.rank, first),
            _snippet(hit.chunk.title or hit.chunk.text, 40),
        ]
        for hit in result.hits
    ]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    out = ["  ".join(c.ljust(w) for c, w in zip(headers, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    timing = ", ".join(f"{name} {sec * 1000:.1f} ms" for name, sec in result.timings.items())
    out.append("")
    depth = result.settings.get("rescore_depth")
    if depth is not None:
        out.append(f"rescoring depth: {depth} first-stage rows rescored with the float vectors")
    out.append(f"timings: {timing}")
    return "\n".join(out)
