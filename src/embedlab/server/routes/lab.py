"""The lab's JSON behind the panels: embed, similarity, compare models, languages.

Each route gets encoders from the shared pool (timing the load apart), runs the explore
layer's function in a worker thread, and adds a figure. Every answer carries ``timing``
(``inference_ms`` and ``load_ms``; per model where several models run).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedlab.errors import EmptyInputError, InputError, ModelNotInstalledError
from embedlab.explore.compare import compare_models, inspect_across
from embedlab.explore.inspect import inspect_texts
from embedlab.explore.pair_text import parse_pairs
from embedlab.explore.similarity import score_matrix, score_pair
from embedlab.figures.vectors import dimension_bars, similarity_heatmap
from embedlab.models import Encoder
from embedlab.models.registry import find_spec
from embedlab.server.limits import check_count
from embedlab.server.models import ModelPool, get_pool

router = APIRouter(prefix="/lab", tags=["lab"])
#: the most models one comparison loads (each stays in memory once loaded).
MAX_COMPARE_MODELS = 8

Role = Literal["document", "query"]


def fig_json(fig: Any) -> dict[str, Any]:
    """A plotly Figure as the JSON the page hands to ``Plotly.newPlot``."""
    out: dict[str, Any] = json.loads(fig.to_json())
    return out


def timing(inference_s: float, load_s: float) -> dict[str, float]:
    """The timing record every lab answer carries (milliseconds)."""
    return {"inference_ms": round(1000 * inference_s, 3), "load_ms": round(1000 * load_s, 3)}


async def encoders(pool: ModelPool, names: list[str]) -> list[tuple[Encoder, float]]:
    """Each named model with the seconds this request waited for it to load."""
    if not names:
        raise InputError("Name at least one model.")
    if len(names) > MAX_COMPARE_MODELS:
        raise InputError(
            f"{len(names)} models named; one request compares at most {MAX_COMPARE_MODELS}."
        )
    return [await pool.encoder(n) for n in names]


class EmbedBody(BaseModel):
    texts: list[str] = Field(description="Texts to embed (the playground sends one).")
    model: str | None = None
    role: Role = "document"


@router.post("/embed")
async def lab_embed(body: EmbedBody, request: Request) -> dict[str, Any]:
    """Each text's vector, stats, tokens and bar chart; a heatmap when there are several."""
    pool = get_pool(request)
    pool.check_batch(len(body.texts))
    enc, load_s = await pool.encoder(body.model)
    found = await asyncio.to_thread(inspect_texts, enc, body.texts, body.role)
    items = []
    for ins in found:
        d = ins.to_dict()
        d["token_note"] = ins.token_note
        d["figure"] = fig_json(dimension_bars(ins.vector, f"{enc.info.name}: every dimension"))
        items.append(d)
    out: dict[str, Any] = {
        "model": enc.info.to_dict(),
        "items": items,
        "timing": timing(found[0].seconds, load_s),
    }
    if len(found) > 1:
        sims = await asyncio.to_thread(score_matrix, enc, body.texts, role=body.role)
        out["similarity"] = sims.to_dict()
        out["heatmap"] = fig_json(similarity_heatmap(sims.matrix, body.texts, "cosine similarity"))
    return out


class PairBody(BaseModel):
    a: str
    b: str
    model: str | None = None
    metric: Literal["cosine", "dot", "euclidean"] = "cosine"


@router.post("/similarity")
async def lab_similarity(body: PairBody, request: Request) -> dict[str, Any]:
    """Two texts: the score, and its percentile among the model's unrelated pairs."""
    enc, load_s = await get_pool(request).encoder(body.model)
    pair = await asyncio.to_thread(score_pair, enc, body.a, body.b, metric=body.metric)
    out = pair.to_dict()
    out["timing"] = timing(pair.seconds, load_s)
    return out


class MatrixBody(BaseModel):
    texts: list[str] = Field(min_length=2, description="Two or more texts.")
    model: str | None = None
    metric: Literal["cosine", "dot", "euclidean"] = "cosine"


@router.post("/similarity/matrix")
async def lab_similarity_matrix(body: MatrixBody, request: Request) -> dict[str, Any]:
    """Every text against every text: the matrix and its heatmap."""
    pool = get_pool(request)
    pool.check_batch(len(body.texts))
    enc, load_s = await pool.encoder(body.model)
    sims = await asyncio.to_thread(score_matrix, enc, body.texts, metric=body.metric)
    out = sims.to_dict()
    title = f"{enc.info.name}: {body.metric}"
    out["heatmap"] = fig_json(similarity_heatmap(sims.matrix, sims.texts, title))
    out["timing"] = timing(sims.seconds, load_s)
    return out


class CompareBody(BaseModel):
    models: list[str] = Field(min_length=1, description="Two or more models.")
    text: str | None = Field(None, description="One text: stats side by side.")
    texts: list[str] | None = Field(None, description="Three or more texts: agreement.")
    k: int = Field(3, ge=1, le=50)


@router.post("/compare")
async def lab_compare(body: CompareBody, request: Request) -> dict[str, Any]:
    """One text through several models (stats side by side) and/or a list of texts
    (each model's heatmap, rank correlation, shared neighbours, disagreements first)."""
    if body.text is None and not body.texts:
        raise InputError("Give 'text' (one text) or 'texts' (three or more), or both.")
    pool = get_pool(request)
    loaded = await encoders(pool, body.models)
    encs = [e for e, _ in loaded]
    load_ms = {e.info.name: round(1000 * s, 3) for e, s in loaded}
    out: dict[str, Any] = {"models": [e.info.to_dict() for e in encs], "load_ms": load_ms}
    if body.text is not None:
        found = await asyncio.to_thread(inspect_across, encs, body.text)
        out["single"] = [
            {
                **ins.to_dict(),
                "figure": fig_json(dimension_bars(ins.vector, ins.model, height=220)),
                "timing": timing(ins.seconds, load_ms[ins.model] / 1000),
            }
            for ins in found
        ]
    if body.texts:
        pool.check_batch(len(body.texts))
        comp = await asyncio.to_thread(compare_models, encs, body.texts, k=body.k)
        out["comparison"] = comp.to_dict()
        out["heatmaps"] = {
            m: fig_json(
                similarity_heatmap(comp.matrices[m], comp.texts, f"{m}: cosine", height=380)
            )
            for m in comp.models
        }
        out["timing"] = {m: timing(s, load_ms.get(m, 0) / 1000) for m, s in comp.seconds.items()}
    return out


class LanguagesBody(BaseModel):
    pairs: list[list[str]] | None = Field(None, description="[text, translation] pairs.")
    text: str | None = Field(
        None, description="Pairs as typed, one 'text | translation' a line (instead of pairs)."
    )
    models: list[str] = ["minilm", "e5-multilingual"]


def _default_pairs() -> list[list[str]]:
    from embedlab.explore.probes import exercise

    pairs: list[list[str]] = exercise("cross-language").inputs["pairs"]
    return pairs


@router.post("/languages")
async def lab_languages(body: LanguagesBody, request: Request) -> dict[str, Any]:
    """Translation pairs scored by each model, each score read against its own model's
    background; a missing model answers how to install it instead of failing."""
    if body.text is not None:  # the user's own pairs, never replaced by the built-in ones
        pairs = parse_pairs(body.text)
    elif body.pairs is not None:
        pairs = body.pairs
        if not pairs:
            raise EmptyInputError("No pairs given: send [text, translation] pairs.")
    else:
        pairs = _default_pairs()
    check_count(len(pairs), get_pool(request).max_batch, "pairs")
    if len(body.models) > MAX_COMPARE_MODELS:
        raise InputError(f"{len(body.models)} models named; at most {MAX_COMPARE_MODELS}.")
    for i, p in enumerate(pairs):
        if len(p) != 2:
            raise InputError(f"Pair #{i} has {len(p)} texts; give [text, translation].")
    pool = get_pool(request)
    results = []
    for name in body.models:
        try:
            enc, load_s = await pool.encoder(name)
        except ModelNotInstalledError as exc:
            spec = find_spec(name)
            results.append(
                {"model": name, "available": False, "message": str(exc),
                 "install": spec.install if spec else ""}
            )  # fmt: skip
            continue
        scores = [await asyncio.to_thread(score_pair, enc, a, b) for a, b in pairs]
        results.append(
            {
                "model": enc.info.name,
                "available": True,
                "languages": spec.languages if (spec := find_spec(name)) else "",
                "scores": [s.to_dict() for s in scores],
                "mean_cosine": sum(s.cosine for s in scores) / len(scores),
                "mean_percentile": sum(s.percentile for s in scores) / len(scores),
                "timing": timing(sum(s.seconds for s in scores), load_s),
            }
        )
    return {"pairs": pairs, "results": results}
