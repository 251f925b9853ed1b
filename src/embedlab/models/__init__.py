"""Models: text -> vectors (:class:`Encoder`), (query, passage) -> score (:class:`Reranker`)."""

from embedlab.models.base import Encoder, ModelInfo, Reranker
from embedlab.models.registry import (
    CATALOGUE,
    DEFAULT_MODEL,
    ModelSpec,
    is_installed,
    known_names,
    load_model,
)

__all__ = [
    "CATALOGUE",
    "DEFAULT_MODEL",
    "Encoder",
    "ModelInfo",
    "ModelSpec",
    "Reranker",
    "is_installed",
    "known_names",
    "load_model",
]
