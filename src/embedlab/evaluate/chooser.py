"""The model chooser: every model on this machine and on the configured servers, with what
the catalogue records and what is measured here.

- :func:`catalogue_rows`: the catalogue (dims, size, Matryoshka training, public benchmark
  scores with their source, only where :attr:`ModelSpec.benchmarks` records them: nothing is
  filled in otherwise); max input where the model is loaded (its own info).
- :func:`trained_rows`: models trained or distilled here, in ``home()/models``
  (``st:NAME``, ``static:NAME``, ``words:NAME``), with their size on disk.
- :func:`server_rows`: the embedding models of the Ollama / OpenAI-compatible servers the
  operator configured (a server that is down adds none).
- :func:`measure_model`: on this machine, encode speed (documents a second on a sample of
  the collection's documents, and one query's latency) and quality (nDCG@10 of exact
  search over the collection's corpus for its judged queries, the project's metrics).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from embedlab.errors import InputError
from embedlab.evaluate.cache import embed_cached
from embedlab.evaluate.datasets import RetrievalDataset
from embedlab.evaluate.matryoshka import MAX_DOCUMENTS, K, truncated_run
from embedlab.evaluate.metrics import evaluate_run
from embedlab.evaluate.timing import timed_calls
from embedlab.models.base import Encoder
from embedlab.models.registry import CATALOGUE, ModelSpec, is_installed

#: documents embedded (fresh, not from the cache) to measure encode speed.
SPEED_SAMPLE = 64
#: queries embedded one at a time to measure query latency.
QUERY_SAMPLE = 5


@dataclass
class ChooserRow:
    """One model: what is known without measuring it."""

    name: str
    source: str  # "catalogue", "trained here" or the server's URL
    description: str
    kind: str
    dims: int | None
    size_mb: float | None
    max_tokens: int | None  # None: not known until the model is loaded (or no limit)
    matryoshka: list[int]
    benchmarks: list[dict[str, Any]] = field(default_factory=list)
    installed: bool = True
    loaded: bool = False
    install: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _benchmarks(spec: ModelSpec) -> list[dict[str, Any]]:
    return [{"benchmark": b, "score": s, "source": src} for b, s, src in spec.benchmarks]


def catalogue_rows(loaded: Mapping[str, Encoder]) -> list[ChooserRow]:
    """The catalogue, one row a model; ``loaded``: encoders already loaded, by name."""
    rows = []
    for spec in CATALOGUE:
        enc = loaded.get(spec.name)
        rows.append(
            ChooserRow(
                name=spec.name,
                source="catalogue",
                description=spec.description,
                kind=spec.kind,
                dims=spec.dims,
                size_mb=float(spec.size_mb),
                max_tokens=enc.info.max_tokens if enc is not None else None,
                matryoshka=list(spec.matryoshka),
                benchmarks=_benchmarks(spec),
                installed=is_installed(spec),
                loaded=enc is not None,
                install=spec.install,
            )
        )
    return rows


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def _trained_kind(folder: Path) -> str | None:
    """``st``, ``static`` or ``words`` for a model folder; ``None`` for anything else."""
    if (folder / "vectors.npy").is_file() and (folder / "words.txt").is_file():
        return "words"
    from embedlab.models.static_backend import is_static_folder

    if is_static_folder(folder):
        return "static"
    if (folder / "modules.json").is_file():
        return "st"
    return None


def trained_rows(folder: Path, loaded: Mapping[str, Encoder]) -> list[ChooserRow]:
    """Models saved in ``folder`` (``home()/models``), named as a request names them."""
    if not folder.is_dir():
        return []
    rows = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
        kind = _trained_kind(sub)
        if kind is None:
            continue
        name = f"{kind}:{sub.name}"
        enc = loaded.get(f"{kind}:{sub}") or loaded.get(name)
        rows.append(
            ChooserRow(
                name=name,
                source="trained here",
                description=f"{sub}",
                kind="word" if kind == "words" else "sentence",
                dims=enc.info.dims if enc is not None else None,
                size_mb=round(_folder_mb(sub), 1),
                max_tokens=enc.info.max_tokens if enc is not None else None,
                matryoshka=_trained_matryoshka(sub),
                loaded=enc is not None,
            )
        )
    return rows


def _trained_matryoshka(folder: Path) -> list[int]:
    import json

    record = folder / "train.json"
    if not record.is_file():
        return []
    try:
        config = json.loads(record.read_text(encoding="utf-8")).get("config", {})
    except (OSError, ValueError):
        return []
    return sorted({int(d) for d in config.get("matryoshka") or []}, reverse=True)


def server_rows(options: Mapping[str, Mapping[str, Any]]) -> list[ChooserRow]:
    """The embedding models of each configured server (``protocol -> {base_url, api_key}``)."""
    from embedlab.models.discover import probe_server

    rows = []
    for proto, opts in options.items():
        listing = probe_server(proto, str(opts["base_url"]), api_key=opts.get("api_key"))
        for m in listing.models:
            if m.kind != "embedding":
                continue
            rows.append(
                ChooserRow(
                    name=m.name,
                    source=listing.url,
                    description=f"{m.model} on {listing.url}",
                    kind="remote",
                    dims=None,
                    size_mb=None,
                    max_tokens=None,
                    matryoshka=[],
                )
            )
    return rows


@dataclass
class Measured:
    """One model measured here on one collection."""

    model: str
    dims: int
    max_tokens: int | None
    dataset: str
    documents: int
    queries: int
    speed_texts: int
    encode_seconds: float
    docs_per_s: float
    query_ms: float
    ndcg: float
    k: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure_model(encoder: Encoder, dataset: RetrievalDataset, *, k: int = K) -> Measured:
    """Encode speed and nDCG@``k`` of ``encoder`` on ``dataset``, measured now.

    Speed: the first :data:`SPEED_SAMPLE` documents embedded in one call (never from the
    cache), and :data:`QUERY_SAMPLE` queries one at a time on one thread (median). Quality:
    exact cosine search over the whole corpus (vectors from the evaluation cache when there).

    :raises InputError: no judged query, or a collection over :data:`MAX_DOCUMENTS`.
    """
    judged = dataset.judged_queries
    if not judged:
        raise InputError(f"The collection {dataset.name!r} has no judged query to measure with.")
    if len(dataset.corpus) > MAX_DOCUMENTS:
        raise InputError(
            f"{dataset.name!r} holds {len(dataset.corpus):,} documents; the chooser measures on at "
            f"most {MAX_DOCUMENTS:,}. Use the Measure page's grid for it."
        )
    texts = dataset.doc_texts()
    sample = [t if t.strip() else "(empty)" for t in texts[:SPEED_SAMPLE]]
    start = time.perf_counter()
    encoder.embed(sample, role="document")
    seconds = time.perf_counter() - start
    qtexts = list(judged.values())[:QUERY_SAMPLE]
    _, query_ms = timed_calls(
        lambda i: encoder.embed(qtexts[i], role="query"), len(qtexts), len(qtexts)
    )
    docs = embed_cached(encoder, texts, "document").vectors
    queries = embed_cached(encoder, list(judged.values()), "query").vectors
    dims = encoder.info.dims
    run = truncated_run(queries, docs, dims, list(judged), dataset.doc_ids, k)
    qrels = {q: dataset.qrels[q] for q in judged}
    ndcg = evaluate_run(qrels, run, (k,), warn=False).mean[f"nDCG@{k}"]
    return Measured(
        model=encoder.info.name,
        dims=dims,
        max_tokens=encoder.info.max_tokens,
        dataset=dataset.name,
        documents=len(texts),
        queries=len(judged),
        speed_texts=len(sample),
        encode_seconds=seconds,
        docs_per_s=len(sample) / max(seconds, 1e-9),
        query_ms=query_ms,
        ndcg=ndcg,
        k=k,
    )


__all__ = [
    "ChooserRow",
    "Measured",
    "catalogue_rows",
    "measure_model",
    "server_rows",
    "trained_rows",
]
