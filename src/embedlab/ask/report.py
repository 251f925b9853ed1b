"""Text renderings of an :class:`~embedlab.ask.pipeline.AskResult` for the CLI."""

from __future__ import annotations

from embedlab.ask.pipeline import AskResult
from embedlab.ask.prompt import ContextItem
from embedlab.stores.base import Chunk


def where(chunk: Chunk) -> str:
    """``title — source (record r, chunk c)``: enough to find the chunk again."""
    pos = chunk.position
    parts = [f"{k} {pos[k]}" for k in ("record", "chunk") if k in pos]
    place = f" ({', '.join(parts)})" if parts else ""
    title = f"{chunk.title} — " if chunk.title else ""
    return f"{title}{chunk.source}{place}"


def _item(item: ContextItem) -> str:
    label = f"[{item.number}]" if item.number is not None else f"#{item.rank}"
    return f"  {label} {where(item.chunk)}  ({item.tokens} tokens, score {item.score:.3f})"


def format_sources(result: AskResult) -> str:
    """The numbered sources (cited ones marked), and those the budget left out."""
    cited = {c.number for c in result.citations}
    b = result.prompt.budget
    lines = [f"Sources ({b.used} of {b.available} tokens for sources; * = cited):"]
    lines += [("*" if i.number in cited else " ") + _item(i)[1:] for i in result.prompt.included]
    if result.prompt.excluded:
        lines.append(f"Left out: the budget was spent ({len(result.prompt.excluded)} chunks):")
        lines += [_item(i) for i in result.prompt.excluded]
    return "\n".join(lines)


def format_flagged(result: AskResult) -> str:
    """The sentences that cite nothing or that their source does not support ("" if none)."""
    if not result.flagged:
        return ""
    lines = [f"Flagged sentences (unrelated level {result.unrelated_level:.2f}):"]
    lines += [f"  ! {s.text}\n      {s.reason}" for s in result.flagged]
    return "\n".join(lines)


def format_stats(result: AskResult) -> str:
    """One line of times and token counts."""
    t = result.timings
    reply = result.reply
    tps = reply.tokens_per_second if reply else None
    rate = f"{tps:.1f} tokens/s" if tps else "- tokens/s"
    done = reply.completion_tokens if reply else 0
    return (
        f"{result.chat.name}: prompt {result.prompt.tokens} tokens, answer {done} tokens, "
        f"first token {t.get('first_token', 0):.2f} s, {rate} | embed {t.get('embed', 0):.3f} s, "
        f"search {t.get('search', 0):.3f} s, rerank {t.get('rerank', 0):.3f} s, "
        f"cite {t.get('cite', 0):.2f} s, total {t.get('total', 0):.1f} s"
    )


def format_after_answer(result: AskResult) -> str:
    """Everything printed after the answer: sources, flagged sentences, stats."""
    parts = [format_sources(result), format_flagged(result), format_stats(result)]
    return "\n\n".join(p for p in parts if p)


__all__ = ["format_after_answer", "format_flagged", "format_sources", "format_stats", "where"]
