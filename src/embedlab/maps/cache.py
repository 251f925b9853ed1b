"""A small disk cache of numpy arrays, keyed by what decides them.

Each entry is one ``.npz`` file (``allow_pickle=False``) named by the sha256 of its key
record; the key itself is stored inside so a reader can check it. Used for embeddings of
text files, projections, clusters and trust scores: a second map of the same input is read
back instead of recomputed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Arrays = dict[str, np.ndarray]


def vectors_hash(vectors: np.ndarray) -> str:
    """A short sha256 of a float32 matrix (its shape and bytes)."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    h = hashlib.sha256(str(x.shape).encode())
    h.update(x.tobytes())
    return h.hexdigest()[:20]


def texts_hash(texts: list[str]) -> str:
    """A short sha256 of a list of texts (order matters)."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:20]


def key_name(key: dict[str, Any]) -> str:
    """The file stem of a key record."""
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:24]


def load(folder: Path, key: dict[str, Any]) -> Arrays | None:
    """The arrays stored under ``key`` in ``folder``, or ``None`` if absent or unreadable."""
    path = folder / f"{key_name(key)}.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # damaged: computed again
        return None
    stored = arrays.pop("__key__", None)
    if stored is None or json.loads(str(stored)) != json.loads(json.dumps(key, default=str)):
        return None
    return arrays


def save(folder: Path, key: dict[str, Any], arrays: Arrays) -> Path:
    """Store ``arrays`` under ``key`` (written to a temporary file, then renamed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key_name(key)}.npz"
    payload = dict(arrays)
    payload["__key__"] = np.array(json.dumps(key, sort_keys=True, default=str))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **payload)  # type: ignore[arg-type]
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def cached(
    folder: Path | None, key: dict[str, Any], compute: Callable[[], Arrays]
) -> tuple[Arrays, bool]:
    """``compute()`` once and store it; later calls with the same key read it back.

    :param folder: where to store; ``None`` turns caching off.
    :return: (arrays, whether they came from the cache).
    """
    if folder is not None:
        hit = load(folder, key)
        if hit is not None:
            return hit, True
    arrays = compute()
    if folder is not None:
        with contextlib.suppress(OSError):  # read-only or full: served without the cache
            save(folder, key, arrays)
    return arrays, False


__all__ = ["cached", "key_name", "load", "save", "texts_hash", "vectors_hash"]
