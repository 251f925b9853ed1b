"""Small real inputs for the store tests: news articles as files, a hand-made PDF, a counter."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.data import news_articles
from embedlab.models import Encoder
from embedlab.stores import EmbeddedIndex


@dataclass
class NewsCorpus:
    """News articles written as files, and the index a clean build made of them."""

    folder: Path
    files: list[Path]
    clean: EmbeddedIndex


def write_news(folder: Path, n: int, start: int = 0, max_chars: int = 2500) -> list[Path]:
    """Write ``n`` news articles as markdown files (``# title`` then the text, cut short)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, a in enumerate(news_articles(limit=start + n)[start:]):
        p = folder / f"article-{start + i:04d}.md"
        p.write_text(f"# {a.title}\n\n{a.text[:max_chars]}\n", encoding="utf-8")
        out.append(p)
    return out


def make_pdf(path: Path, pages: Sequence[str], title: str = "") -> None:
    """Write a minimal valid PDF with one line of Helvetica text per page."""
    objs: list[bytes] = []
    n_pages = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    font_id = 3 + 2 * n_pages
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, text in enumerate(pages):
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode()
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    info_id = None
    if title:
        objs.append(f"<< /Title ({title}) >>".encode())
        info_id = len(objs)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    info = f" /Info {info_id} 0 R" if info_id else ""
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))


class CountingEncoder(Encoder):
    """The real encoder, counting the texts it is asked to embed (to prove reuse)."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.info = inner.info
        self.model: Any = getattr(inner, "model", None)
        self.calls = 0
        self.texts: list[str] = []

    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        self.calls += 1
        self.texts.extend(texts)
        return self.inner.embed(texts, role)

    def count_tokens(self, texts: Sequence[str], role: str = "document") -> list[int] | None:
        return self.inner.count_tokens(texts, role)


def wait_for(proc: subprocess.Popen[bytes], ready: Callable[[], bool], seconds: float,
             what: str) -> None:  # fmt: skip
    """Poll ``ready()`` until it holds while ``proc`` runs; fail (with its stderr) if the
    process ends first or ``seconds`` pass (``what`` names what never happened)."""
    deadline = time.monotonic() + seconds
    while not ready():
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)
