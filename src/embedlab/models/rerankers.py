"""Cross-encoder rerankers: (query, passage) -> relevance, through sentence-transformers.

No package here ships a trained cross-encoder; one comes from a local folder (for example
one trained with ``embedlab.train`` from the MiniLM weights) or, where a model hub is
reachable, from a hub id such as ``cross-encoder/ms-marco-MiniLM-L6-v2``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmptyInputError, ModelError
from embedlab.models.base import Reranker, as_text_list

_CACHE: dict[tuple[str, bool], CrossEncoderReranker] = {}
_LOCK = threading.Lock()


class CrossEncoderReranker(Reranker):
    """A sentence-transformers ``CrossEncoder``; scores are its outputs (higher = more relevant)."""

    batch_size = 32

    def __init__(self, model: Any, name: str) -> None:
        self.model = model
        self.name = name
        limit = getattr(model, "max_seq_length", None)
        self.max_tokens: int | None = int(limit) if isinstance(limit, int) else None

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """One score per passage, float32 ``(len(passages),)``; an empty list gives ``(0,)``.

        :raises EmptyInputError: the query or a passage is empty.
        """
        as_text_list(query)
        if len(passages) == 0:
            return np.zeros(0, dtype=np.float32)
        items = as_text_list(list(passages))
        out = self.model.predict(
            [(query, p) for p in items],
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        scores = np.asarray(out, dtype=np.float32)
        if scores.ndim == 2:
            if scores.shape[1] != 1:
                raise ModelError(
                    f"{self.name} gives {scores.shape[1]} scores per pair; a reranker must give "
                    "one (a cross-encoder trained with num_labels=1)."
                )
            scores = scores[:, 0]
        return scores

    def __repr__(self) -> str:
        return f"<CrossEncoderReranker {self.name}>"


def load_reranker(name_or_path: str, *, trust_remote_code: bool = False) -> CrossEncoderReranker:
    """A cross-encoder from a local folder (always) or a hub id (when a hub is reachable).

    Cached per process. ``trust_remote_code`` stays off unless the caller asks for it.

    :raises ModelError: it cannot be loaded; says to give a local folder when offline.
    """
    if not name_or_path or not name_or_path.strip():
        raise EmptyInputError("No reranker named: give a cross-encoder folder or hub id.")
    path = Path(name_or_path).expanduser()
    source = str(path.resolve()) if path.is_dir() else name_or_path
    key = (source, trust_remote_code)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        from sentence_transformers import CrossEncoder

        try:
            model = CrossEncoder(source, device=_device(), trust_remote_code=trust_remote_code)
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"Could not load cross-encoder {name_or_path!r}: {exc}. Give a local folder "
                "(e.g. one trained with embedlab), or a hub id while a model hub is reachable."
            ) from exc
        reranker = CrossEncoderReranker(model, name_or_path)
        _CACHE[key] = reranker
        return reranker


def _device() -> str:
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:  # pragma: no cover - torch is a dependency
        return "cpu"
