"""InfoNCE explainer against torch autograd and sentence-transformers' loss; pairs files; CLI errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.errors import DatasetError, InputError
from embedlab.train.infonce import explain_infonce, infonce, infonce_from_similarities
from embedlab.train.mining import mine_hard_negatives, with_negatives
from embedlab.train.pairs import Pair, heldout_dataset, load_pairs, save_pairs, split_pairs


def test_infonce_matches_torch_cross_entropy_and_autograd() -> None:
    rng = np.random.default_rng(0)
    a, p, negs = rng.normal(size=16), rng.normal(size=16), rng.normal(size=(4, 16))
    for t in (0.02, 0.05, 0.5):
        res = infonce(a, p, negs, t)
        x = torch.tensor(np.vstack([p, negs]), dtype=torch.float64)
        x = x / x.norm(dim=1, keepdim=True)
        s = (x @ (torch.tensor(a) / torch.tensor(a).norm())).requires_grad_(True)
        loss = torch.nn.functional.cross_entropy((s / t)[None], torch.tensor([0]))
        loss.backward()
        # torch computes logsumexp(z) − z_p and loses ~1e-7 to cancellation on tiny losses
        assert res.loss == pytest.approx(float(loss.detach()), rel=1e-6)
        assert np.allclose(res.grad_similarities, s.grad.numpy(), atol=1e-9)
        assert res.p_positive == pytest.approx(float(torch.softmax(s.detach() / t, 0)[0]), rel=1e-9)


def test_infonce_equals_sentence_transformers_mnrl_for_one_anchor() -> None:
    """MultipleNegativesRankingLoss' scoring with scale=1/τ is the same cross-entropy."""
    from sentence_transformers.util import cos_sim

    rng = np.random.default_rng(1)
    a, cands = rng.normal(size=(1, 8)), rng.normal(size=(3, 8))
    t = 0.05
    scores = cos_sim(torch.tensor(a), torch.tensor(cands)) / t
    ref = torch.nn.functional.cross_entropy(scores, torch.tensor([0]))
    assert infonce(a[0], cands[0], cands[1:], t).loss == pytest.approx(float(ref), rel=1e-6)


def test_hard_negative_gets_the_larger_gradient_and_temperature_sharpens() -> None:
    sims = [0.8, 0.75, 0.1]  # positive, hard negative, easy negative
    cold, warm = infonce_from_similarities(sims, 0.05), infonce_from_similarities(sims, 1.0)
    assert cold.grad_similarities[1] > 10 * cold.grad_similarities[2]
    assert (
        cold.grad_similarities[1] / cold.grad_similarities[2]
        > warm.grad_similarities[1] / warm.grad_similarities[2]
    )
    assert sum(cold.probabilities) == pytest.approx(1.0)
    with pytest.raises(InputError):
        infonce_from_similarities(sims, 0.0)
    vecs = np.eye(4)[[0, 0, 1, 2]] + np.array(
        [[0, 0, 0, 0], [0, 0.1, 0, 0], [0.9, 0, 0, 0], [0, 0, 0, 1]]
    )
    ex = explain_infonce("a", "p", ["hard", "easy"], vecs, (0.05, 0.5))
    assert ex.hardest == 0 and ex.easiest == 1


def test_pairs_file_errors_name_the_line(tmp_path: Path) -> None:
    f = tmp_path / "pairs.jsonl"
    f.write_text(
        '{"anchor": "a", "positive": "b"}\n\n{"query": "c", "positive": "d", "negative": "e"}\n{"anchor": "x"}\n'
    )
    with pytest.raises(DatasetError, match=r":4: missing or empty 'positive'"):
        load_pairs(f)
    f.write_text('{"anchor": "a", "positive": "b"}\nnot json\n')
    with pytest.raises(DatasetError, match=":2: not valid JSON"):
        load_pairs(f)
    pairs = [Pair(f"q{i}", f"doc {i}", "neg" if i % 2 else None) for i in range(20)]
    save_pairs(pairs, f)
    assert load_pairs(f) == pairs
    train, held = split_pairs(pairs, 0.25)
    assert len(held) == 5 and not set(train) & set(held)
    ds = heldout_dataset(held, [p.positive for p in train])
    assert len(ds.corpus) == 20 and len(ds.qrels) == 5


def test_bm25_mining_flags_false_negatives() -> None:
    pairs = [
        Pair("apple pie recipe", "how to bake an apple pie with cinnamon"),
        Pair("apple pie baking", "apple pie recipe: bake the apple pie for an hour"),
        Pair("train timetable", "the train leaves the station at noon"),
        Pair("bus timetable", "the bus timetable for the city centre"),
    ]
    mined = mine_hard_negatives(pairs, "bm25", rank_range=(1, 3), margin=0.0)
    assert mined and all(m.negative != m.positive for m in mined)
    flagged = [m for m in mined if m.likely_false_negative]
    assert all(m.negative_score > m.positive_score for m in flagged)
    assert all(m.negative_score <= m.positive_score for m in mined if not m.likely_false_negative)
    trained = with_negatives(pairs, mined)
    assert all(p.negative is None or p.negative != p.positive for p in trained)
    with pytest.raises(InputError, match="use one of"):
        mine_hard_negatives(pairs, "magic")


def test_cli_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"anchor": "a"}) + "\n")
    r = runner.invoke(cli, ["train", "embedder", "--pairs", str(bad), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "bad.jsonl:1: missing" in r.output
    good = tmp_path / "good.jsonl"
    good.write_text(
        "".join(json.dumps({"anchor": f"a{i}", "positive": f"b{i}"}) + "\n" for i in range(12))
    )
    r = runner.invoke(
        cli,
        [
            "train",
            "embedder",
            "--base",
            "glove-50d",
            "--pairs",
            str(good),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert r.exit_code == 1 and "not a trainable sentence-transformers bi-encoder" in r.output
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("one two three\n")
    r = runner.invoke(
        cli, ["train", "word2vec", str(tiny), "--out", str(tmp_path / "w"), "--min-count", "1"]
    )
    assert r.exit_code == 1 and "too small" in r.output
    r = runner.invoke(
        cli, ["train", "infonce", "a cat sat", "a cat was sitting", "stock markets fell", "kittens"]
    )
    assert r.exit_code == 0 and "P(positive)" in r.output


def test_pairs_from_an_index_are_title_to_first_chunk(minilm: object, tmp_path: Path) -> None:
    """``--from-index``: each titled document gives (title, its first chunk); an index
    without titles is refused with what to do."""
    from embedlab.data import demo_documents
    from embedlab.demo import ensure_demo_index
    from embedlab.stores import create_index
    from embedlab.train.pairs import pairs_from_index

    ensure_demo_index(minilm)  # type: ignore[arg-type]
    docs = demo_documents()
    pairs = pairs_from_index("demo")
    assert len(pairs) == len(docs)  # every demo document has a title and one chunk
    by_title = {d["title"]: d["text"] for d in docs}
    assert all(p.positive == by_title[p.anchor] for p in pairs)

    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(json.dumps({"text": d["text"]}) + "\n" for d in docs[:3]))
    create_index("untitled", [bare], minilm)  # type: ignore[arg-type]
    with pytest.raises(DatasetError, match="no chunks with titles.*--pairs"):
        pairs_from_index("untitled")
    r = CliRunner().invoke(cli, ["train", "mine", "--from-index", "demo", "--method", "bm25"])
    assert r.exit_code == 0, r.output
    assert any(d["title"] in r.output for d in docs)
