"""Static embedding models (model2vec): one table lookup per token and a mean per text.

A static model is a token table distilled from a sentence model (see
:mod:`embedlab.train.distill`): no transformer runs at inference, so it embeds orders of
magnitude faster than its teacher, and loses what only a transformer sees (word order,
context: "bank" has one vector whatever the sentence).

A model2vec folder holds ``model.safetensors`` (the table), ``tokenizer.json`` and a
``config.json`` with ``"model_type": "model2vec"``. ``load_model("static:DIR")`` or a plain
folder path opens one; its fingerprint carries the sha256 of its table, so an index built
with its teacher (or another distillation) refuses it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import InputError, ModelError, ModelNotInstalledError
from embedlab.models.base import Encoder, ModelInfo
from embedlab.models.paths import sha256_file
from embedlab.vectors.similarity import normalize

TABLE_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "config.json"


def is_static_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding a model2vec model (nothing is loaded)."""
    folder = Path(path).expanduser()
    config = folder / CONFIG_FILE
    if not (folder / TABLE_FILE).is_file() or not (folder / TOKENIZER_FILE).is_file():
        return False
    try:
        meta = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("model_type") == "model2vec"


class StaticEncoder(Encoder):
    """A model2vec ``StaticModel``: tokenise, look each token up, average, normalise.

    Tokenisation is model2vec's own (its tokenizer, its truncation, unknown tokens dropped);
    the pooling is done here in float32 from the table, so a text with no known token is
    refused instead of becoming a silent zero vector.

    :param model: a loaded ``model2vec.StaticModel``.
    :param name: the registry name (``minilm-static``) or ``static:<folder>``.
    :param weights: sha256 of the table file.
    """

    batch_size = 1024

    def __init__(self, model: Any, name: str, weights: str, folder: Path | None = None) -> None:
        self.model = model
        self.folder = folder
        self.table = np.asarray(model.embedding, dtype=np.float32)
        self.token_weights = (
            None if model.weights is None else np.asarray(model.weights, dtype=np.float32)
        )
        self.mapping = None if model.token_mapping is None else np.asarray(model.token_mapping)
        config = dict(model.config)
        self.info = ModelInfo(
            name=name,
            dims=int(self.table.shape[1]),
            max_tokens=model.max_length,
            normalized=bool(model.normalize),
            weights=weights,
            backend="model2vec",
            extra={
                "vocabulary": str(len(model.tokens)),
                "table_dtype": str(np.dtype(model.embedding.dtype)),
                "base_model": str(model.base_model_name or config.get("tokenizer_name", "")),
                "pca_dims": str(config.get("apply_pca", "")),
            },
        )

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text as model2vec reads them (same cut and truncation as ``encode``)."""
        m = self.model
        limit = m.max_length
        items = (
            list(texts) if limit is None else [t[: limit * m.median_token_length] for t in texts]
        )
        ids: list[list[int]] = m.tokenize(items)
        return ids

    def tokens(self, text: str) -> list[str]:
        """The known tokens of one text, in order (unknown ones dropped), for explanations."""
        return [self.model.tokens[i] for i in self.token_ids([text])[0]]

    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        ids = self.token_ids(texts)
        empty = [i for i, row in enumerate(ids) if not row]
        if empty:
            i = empty[0]
            where = "The text" if len(texts) == 1 else f"Text #{i}"
            raise InputError(
                f"{where} ({texts[i][:60]!r}) has no token {self.info.name} knows, so it has no "
                f"vector (a static model only knows the {len(self.model.tokens):,} tokens of its "
                "table). Use words from its vocabulary, or a transformer model such as minilm."
            )
        from scipy.sparse import csr_matrix

        lengths = np.fromiter((len(r) for r in ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter((t for r in ids for t in r), dtype=np.int64, count=int(lengths.sum()))
        # the mean as one sparse product: row i holds 1/len_i at each of text i's tokens
        share = np.repeat(1.0 / lengths, lengths).astype(np.float32)
        if self.token_weights is not None:
            share *= self.token_weights[flat]
        rows = flat if self.mapping is None else self.mapping[flat]
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        pool = csr_matrix((share, rows, indptr), shape=(len(ids), self.table.shape[0]))
        out = np.asarray(pool @ self.table, dtype=np.float32)
        if self.info.normalized:
            normalize(out, inplace=True)  # ``out`` is this call's own product
        return out

    def count_tokens(self, texts: Sequence[str], role: str = "document") -> list[int]:
        return [len(r) for r in self.token_ids(texts)]


def open_static(folder: str | Path, name: str | None = None) -> StaticEncoder:
    """Open a model2vec folder as an encoder (nothing is fetched from a hub).

    :param name: the model's name; ``static:<absolute folder>`` by default.
    :raises ModelError: the folder holds no model2vec model.
    :raises ModelNotInstalledError: model2vec is not installed.
    """
    path = Path(folder).expanduser().resolve()
    if not is_static_folder(path):
        raise ModelError(
            f"{path} is not a model2vec static model folder (it needs {TABLE_FILE}, "
            f"{TOKENIZER_FILE} and a {CONFIG_FILE} with model_type 'model2vec'). Make one with "
            "'embedlab train distill --base minilm --out DIR'."
        )
    try:
        from model2vec import StaticModel
    except ImportError as exc:
        raise ModelNotInstalledError(
            "Static models need model2vec: pip install 'embedlab[static]'."
        ) from exc
    model = StaticModel.from_pretrained(path, force_download=False)
    weights = "sha256:" + sha256_file(path / TABLE_FILE)
    return StaticEncoder(model, name or f"static:{path}", weights, folder=path)


def load_static(folder: str, **_: Any) -> StaticEncoder:
    """The ``static:`` prefix (and a plain folder path): a model2vec folder on disk."""
    return open_static(folder)
