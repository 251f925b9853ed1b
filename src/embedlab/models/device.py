"""The one device choice for torch models: the models, the rerankers and training use it."""

from __future__ import annotations


def torch_device() -> str:
    """``cuda`` when torch sees a GPU, else ``cpu`` (also when torch is missing)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


__all__ = ["torch_device"]
