"""Cross-encoder rerankers: (query, passage) -> relevance, through sentence-transformers.

No package here ships a trained cross-encoder; one comes from a local folder (for example
one trained with ``embedlab.train`` from the MiniLM weights) or, where a model hub is
reachable, from a hub id such as ``cross-encoder/ms-marco-MiniLM-L6-v2``.

A reranker trained by embedlab may be *residual*: its folder's :data:`PRIOR_FILE` names a
bi-encoder and a scale, and its score is ``logit(query, passage) + scale * cos(query,
passage)`` under that bi-encoder: it starts from the bi-encoder's ranking and training
learns corrections (see :mod:`embedlab.train.reranker`). :func:`load_reranker` reads the
file and loads the bi-encoder, so such a reranker works wherever a plain one does. The
passages' bi-encoder vectors may be given (``score(..., vectors=)``: the stored vectors of
an index made with that bi-encoder, see :func:`embedlab.search.rerank.rerank`); then only
the query is embedded, not the candidates again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.bounded import BoundedCache
from embedlab.errors import EmptyInputError, InputError, ModelError
from embedlab.models.base import Encoder, Reranker, as_text_list
from embedlab.models.device import torch_device
from embedlab.vectors.similarity import cosine_matrix

#: file in a reranker folder naming its bi-encoder prior: {"model": "minilm", "scale": 20.0}.
PRIOR_FILE = "embedlab_prior.json"

#: what identifies a folder's weights: each file's name, size and modification time.
Stamp = tuple[tuple[str, int, int], ...]
#: loaded cross-encoders by (source, trust_remote_code, folder stamp): a folder retrained in
#: place loads again; a few at most (each holds a transformer).
_CACHE: BoundedCache[tuple[str, bool, Stamp], CrossEncoderReranker] = BoundedCache(4)
_LOCK = threading.Lock()  # one load at a time


def _stamp(path: Path) -> Stamp:
    """Name, size and mtime of each file in folder ``path`` (empty for a hub id)."""
    if not path.is_dir():
        return ()
    files = sorted(f for f in path.rglob("*") if f.is_file())
    return tuple((str(f.relative_to(path)), f.stat().st_size, f.stat().st_mtime_ns) for f in files)


class CrossEncoderReranker(Reranker):
    """A sentence-transformers ``CrossEncoder``; scores are its outputs (higher = more relevant).

    :param prior: a bi-encoder whose cosine, times ``prior_scale``, is added to the
        cross-encoder's raw logit (a residual reranker); ``None`` for a plain one.
    """

    batch_size = 32

    def __init__(
        self, model: Any, name: str, prior: Encoder | None = None, prior_scale: float = 0.0
    ) -> None:
        self.model = model
        self.name = name
        self.prior = prior
        self.prior_scale = prior_scale
        limit = getattr(model, "max_seq_length", None)
        self.max_tokens: int | None = int(limit) if isinstance(limit, int) else None

    @property
    def prior_fingerprint(self) -> str | None:
        """The fingerprint of the bi-encoder whose cosine is added (``None``: a plain
        reranker): stored vectors of an index with this fingerprint can stand in for
        embedding the passages."""
        return None if self.prior is None else self.prior.info.fingerprint

    def score(
        self,
        query: str,
        passages: Sequence[str],
        *,
        vectors: np.ndarray | None = None,
        query_vector: np.ndarray | None = None,
    ) -> np.ndarray:
        """One score per passage, float32 ``(len(passages),)``; an empty list gives ``(0,)``.

        :param vectors: the passages' vectors by the prior bi-encoder (role ``document``),
            one row per passage, e.g. an index's stored vectors: used instead of embedding
            the passages (a residual reranker only; the caller checks the model).
        :param query_vector: the query's vector by the same bi-encoder (else it is embedded).
        :raises EmptyInputError: the query or a passage is empty.
        :raises InputError: ``vectors`` has not one row per passage.
        """
        as_text_list(query)
        if len(passages) == 0:
            return np.zeros(0, dtype=np.float32)
        items = as_text_list(list(passages))
        extra: dict[str, Any] = {}
        if self.prior is not None:
            import torch

            extra["activation_fn"] = torch.nn.Identity()  # raw logits, on the prior's scale
        out = self.model.predict(
            [(query, p) for p in items],
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            **extra,
        )
        scores = np.asarray(out, dtype=np.float32)
        if scores.ndim == 2:
            if scores.shape[1] != 1:
                raise ModelError(
                    f"{self.name} gives {scores.shape[1]} scores per pair; a reranker must give "
                    "one (a cross-encoder trained with num_labels=1)."
                )
            scores = scores[:, 0]
        if self.prior is not None:
            if vectors is not None and len(vectors) != len(items):
                raise InputError(
                    f"{len(vectors)} passage vectors for {len(items)} passages: give one "
                    "stored vector per passage, in the same order."
                )
            q = (
                self.prior.embed([query], role="query")
                if query_vector is None
                else np.atleast_2d(np.asarray(query_vector, dtype=np.float32))
            )
            d = self.prior.embed(items, role="document") if vectors is None else vectors
            scores = scores + np.float32(self.prior_scale) * cosine_matrix(q, d)[0]
        return scores.astype(np.float32)

    def __repr__(self) -> str:
        return f"<CrossEncoderReranker {self.name}>"


def load_reranker(name_or_path: str, *, trust_remote_code: bool = False) -> CrossEncoderReranker:
    """A cross-encoder from a local folder (always) or a hub id (when a hub is reachable).

    Cached per process by source and the folder's files (a folder retrained in place loads
    again). ``trust_remote_code`` stays off unless the caller asks for it.

    :raises ModelError: it cannot be loaded; says to give a local folder when offline.
    """
    if not name_or_path or not name_or_path.strip():
        raise EmptyInputError("No reranker named: give a cross-encoder folder or hub id.")
    path = Path(name_or_path).expanduser()
    source = str(path.resolve()) if path.is_dir() else name_or_path
    key = (source, trust_remote_code, _stamp(path))
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
        from sentence_transformers import CrossEncoder

        try:
            model = CrossEncoder(source, device=_device(), trust_remote_code=trust_remote_code)
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"Could not load cross-encoder {name_or_path!r}: {exc}. Give a local folder "
                "(e.g. one trained with embedlab), or a hub id while a model hub is reachable."
            ) from exc
        prior, scale = _prior(path / PRIOR_FILE) if path.is_dir() else (None, 0.0)
        reranker = CrossEncoderReranker(model, name_or_path, prior, scale)
        _CACHE.put(key, reranker)
        return reranker


def _prior(path: Path) -> tuple[Encoder | None, float]:
    """The bi-encoder and scale a residual reranker's folder names (none for a plain one)."""
    if not path.exists():
        return None, 0.0
    from embedlab.models import load_model

    spec = json.loads(path.read_text(encoding="utf-8"))
    try:
        return load_model(str(spec["model"])), float(spec["scale"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(
            f"{path} is not a valid prior ({exc!r}): it should read "
            '{"model": "minilm", "scale": 20.0}. Retrain the reranker or delete the file.'
        ) from exc


def _device() -> str:
    return torch_device()
