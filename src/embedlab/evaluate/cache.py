"""Embeddings cached on disk so each model embeds a corpus once per grid (and across runs).

Key: the model's fingerprint (its vector space) + a hash of the texts + the role, under
``settings.cache_dir("eval-embeddings")``. A changed text or another model is a new key;
nothing stale is ever reused.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.models.base import Encoder
from embedlab.settings import cache_dir

BATCH = 64


@dataclass(frozen=True)
class Embedded:
    """Vectors of a list of texts, how long embedding took, and whether the cache had them."""

    vectors: np.ndarray
    seconds: float
    cached: bool
    path: Path | None


def texts_hash(texts: Sequence[str]) -> str:
    """A short hash of a list of texts (order matters)."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8") + b"\x00")
    return h.hexdigest()[:16]


def cache_path(encoder: Encoder, texts: Sequence[str], role: str) -> Path:
    """Where the vectors of ``texts`` by ``encoder`` in ``role`` are kept."""
    name = f"{encoder.info.fingerprint}-{texts_hash(texts)}-{role}.npy"
    return cache_dir("eval-embeddings") / name


def embed_cached(
    encoder: Encoder, texts: Sequence[str], role: str = "document", *, cache: bool = True
) -> Embedded:
    """Embed ``texts`` (a blank one as "(empty)"), reading and filling the disk cache."""
    path = cache_path(encoder, texts, role) if cache else None
    if path is not None and path.exists():
        start = time.perf_counter()
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape == (len(texts), encoder.info.dims):
            return Embedded(vectors, time.perf_counter() - start, True, path)
    start = time.perf_counter()
    items = [t if t.strip() else "(empty)" for t in texts]  # the encoder refuses blank texts
    parts = [encoder.embed(items[i : i + BATCH], role=role) for i in range(0, len(items), BATCH)]
    vectors = np.vstack(parts).astype(np.float32)
    seconds = time.perf_counter() - start
    if path is not None:
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors, allow_pickle=False)
        tmp.replace(path)
    return Embedded(vectors, seconds, False, path)


__all__ = ["Embedded", "cache_path", "embed_cached", "texts_hash"]
