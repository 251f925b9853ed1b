"""The search pipeline on real text: title -> article retrieval over news, stage traces,
reranking with a cross-encoder trained from the MiniLM weights, filters and errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embedlab.errors import EmptyInputError, FingerprintMismatchError, InputError
from embedlab.search.explain import format_explain
from embedlab.search.memory import MemoryIndex
from embedlab.search.pipeline import parse_filters, search


def _quality(news: Any, minilm: Any, mode: str, **options: Any) -> tuple[float, float]:
    """recall@10 and MRR@10 of title -> article over the whole set."""
    recall = mrr = 0.0
    for i, title in enumerate(news.titles):
        result = search(
            news.index, title, encoder=minilm, k=10, mode=mode,
            query_vector=news.query_vectors[i], **options,
        )  # fmt: skip
        ids = [h.chunk.id for h in result.hits]
        if i in ids:
            recall += 1
            mrr += 1 / (ids.index(i) + 1)
    return recall / len(news.titles), mrr / len(news.titles)


def test_hybrid_at_least_as_good_as_the_better_one(news: Any, minilm: Any) -> None:
    dense, bm25, hybrid = (_quality(news, minilm, m) for m in ("dense", "bm25", "hybrid"))
    print(f"recall@10, MRR: dense {dense}, bm25 {bm25}, hybrid {hybrid}")
    assert hybrid[0] >= max(dense[0], bm25[0]) or hybrid[1] >= max(dense[1], bm25[1])
    assert min(dense[1], bm25[1]) > 0.5  # both retrievers really work on this set


def test_matryoshka_and_quantized_paths_end_to_end(news: Any, minilm: Any) -> None:
    base = _quality(news, minilm, "dense")
    for options in ({"dims": 128}, {"quantize": "int8"}, {"quantize": "binary"}):
        got = _quality(news, minilm, "dense", **options)
        assert got[1] >= base[1] - 0.02, options
    result = search(news.index, news.titles[0], encoder=minilm, dims=64, quantize="binary")
    assert result.stage_names == ["dense_first", "dense"]
    assert result.hits[0].stages["dense_first"].rank is not None


def test_explain_traces_every_stage(news: Any, minilm: Any) -> None:
    result = search(news.index, news.titles[3], encoder=minilm, k=5, mode="hybrid")
    assert result.stage_names == ["bm25", "dense", "fused"]
    top = result.hits[0]
    assert top.stages["fused"].rank == 1 and top.chunk.id == 3
    for hit in result.hits:
        assert hit.stages["fused"].rank == hit.rank
        assert hit.stages["bm25"].rank is not None or hit.stages["dense"].rank is not None
    text = format_explain(result)
    assert "bm25" in text and "fused" in text and "moved" in text and "timings" in text
    assert {"embed", "dense", "bm25", "fuse", "total"} <= set(result.timings)


def test_rerank_with_trained_cross_encoder(news: Any, minilm: Any, cross_encoder_dir: Path) -> None:
    from sentence_transformers import CrossEncoder

    from embedlab.models.rerankers import load_reranker

    reranker = load_reranker(str(cross_encoder_dir))
    reference = CrossEncoder(str(cross_encoder_dir), device="cpu")
    for i in (100, 120):  # titles the cross-encoder did not train on
        first = search(news.index, news.titles[i], encoder=minilm, k=10, mode="hybrid",
                       query_vector=news.query_vectors[i])  # fmt: skip
        result = search(
            news.index, news.titles[i], encoder=minilm, k=5, mode="hybrid", rerank=reranker,
            rerank_candidates=10, query_vector=news.query_vectors[i],
        )  # fmt: skip
        assert result.stage_names[-1] == "reranked"
        candidates = [h.chunk for h in first.hits]
        expected = reference.predict([(news.titles[i], c.text) for c in candidates])
        best = [candidates[j].id for j in np.argsort(-np.asarray(expected), kind="stable")[:5]]
        assert [h.chunk.id for h in result.hits] == best
        np.testing.assert_allclose(
            [h.score for h in result.hits], np.sort(np.asarray(expected))[::-1][:5], atol=1e-4
        )
        for hit in result.hits:  # every reranked hit came from the fused top 10
            assert hit.stages["fused"].rank is not None and hit.stages["fused"].rank <= 10
    assert "reranked" in format_explain(result)
    by_name = search(news.index, news.titles[0], encoder=minilm, k=3,
                     rerank=str(cross_encoder_dir), rerank_candidates=5)  # fmt: skip
    assert len(by_name.hits) == 3 and "rerank" in by_name.timings


def test_filters(news: Any, minilm: Any) -> None:
    result = search(news.index, news.titles[4], encoder=minilm, mode="hybrid", filters=["part=1"])
    assert result.hits and all(h.chunk.metadata["part"] == "1" for h in result.hits)
    assert result.hits[0].chunk.id == 4
    with pytest.raises(InputError, match="Malformed filter"):
        parse_filters(["part"])
    with pytest.raises(InputError, match="Fields: part, source, title"):
        search(news.index, "x", encoder=minilm, filters={"colour": "red"})


def test_errors(news: Any, minilm: Any) -> None:
    with pytest.raises(EmptyInputError):
        search(news.index, "  ", encoder=minilm)
    with pytest.raises(InputError, match="dense, bm25, hybrid"):
        search(news.index, "x", encoder=minilm, mode="sparse")
    other = MemoryIndex(
        "other", news.index.get_chunks([0, 1]), news.index.vectors()[:2],
        {**news.index.model_info, "name": "glove-50d", "fingerprint": "0123456789abcdef"},
    )  # fmt: skip
    with pytest.raises(FingerprintMismatchError, match="glove-50d"):
        search(other, "x", encoder=minilm)


def test_through_the_embedded_store(tmp_path: Path, minilm: Any, news: Any) -> None:
    import json

    from embedlab.errors import IndexNotFoundError
    from embedlab.stores import create_index, drop_index

    src = tmp_path / "news.jsonl"
    with open(src, "w") as f:
        for i in range(30):
            row = {"title": news.titles[i], "text": news.texts[i], "part": str(i % 2)}
            f.write(json.dumps(row) + "\n")
    index = create_index("search-news", [src], minilm)
    try:
        result = search("search-news", news.titles[7], encoder=minilm, mode="hybrid")
        assert result.hits[0].chunk.title == news.titles[7]
        assert (index.folder / "bm25" / f"gen-{index.generation}").is_dir()
        filtered = search("search-news", news.titles[7], encoder=minilm, filters=["part=0"])
        assert all(h.chunk.metadata["part"] == "0" for h in filtered.hits)
        assert np.isfinite([h.score for h in filtered.hits]).all()
    finally:
        drop_index("search-news")
    with pytest.raises(IndexNotFoundError):
        search("search-news", "x", encoder=minilm)
