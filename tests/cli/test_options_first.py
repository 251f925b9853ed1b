"""Bad options are refused before any model loads (issue 12).

Every model load goes through the registry; here it raises :class:`ModelLoaded` instead, so
a command that loads its model before checking an option fails with that error instead of
the clean message the test expects. One valid command shows the guard does catch loads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from embedlab.bounded import BoundedCache
from embedlab.cli.main import cli
from embedlab.models import registry


class ModelLoaded(Exception):
    """Raised by the registry in these tests: a model started loading."""


@pytest.fixture()
def no_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str, options: dict[str, object]) -> None:
        raise ModelLoaded(f"the model {name} started loading")

    monkeypatch.setattr(registry._CACHE, "encoders", BoundedCache(registry.MODEL_CACHE))
    monkeypatch.setattr(registry, "_load_uncached", refuse)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("options")
    texts = root / "texts.txt"
    texts.write_text("a cat\na dog\na car\n")
    latin = root / "latin.txt"
    latin.write_bytes("café\nthé\n".encode("latin-1"))
    pairs = root / "pairs.jsonl"
    pairs.write_text(
        "".join(json.dumps({"anchor": f"q{i}", "positive": f"doc {i}"}) + "\n" for i in range(8))
    )
    bad_pairs = root / "bad_pairs.jsonl"
    bad_pairs.write_bytes(b'{"anchor": "caf\xe9", "positive": "x"}\n')
    ds = root / "ds"
    (ds / "qrels").mkdir(parents=True)
    (ds / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": f"d{i}", "text": f"doc {i}"}) + "\n" for i in range(4))
    )
    (ds / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": f"q{i}", "text": f"query {i}"}) + "\n" for i in range(4))
    )
    (ds / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{i}\t1\n" for i in range(4))
    )
    return {
        "texts": str(texts),
        "latin": str(latin),
        "pairs": str(pairs),
        "bad_pairs": str(bad_pairs),
        "ds": str(ds),
        "out": str(root / "out"),
    }


#: (arguments, exit status, what the message says); {name} is filled from ``files``.
CASES: list[tuple[list[str], int, str]] = [
    (["embed", "   "], 1, "empty or only whitespace"),
    (["similarity", "a", " "], 1, "empty or only whitespace"),
    (["similarity", "--file", "{latin}"], 1, "not UTF-8 (a bad byte at line 1"),
    (["compare", "--models", "minilm,glove-50d", "--file", "{latin}"], 1, "not UTF-8"),
    (["analogy", "a", "b", "c", "--candidates", "{latin}"], 1, "not UTF-8"),
    (["search", "idx", "q", "-m", "minilm", "-k", "0"], 2, "Invalid value for '-k'"),
    (["search", "idx", "q", "-m", "minilm", "--dims", "0"], 2, "Invalid value for '--dims'"),
    (["search", "idx", "q", "-m", "minilm", "--quantize", "int4"], 2, "'--quantize'"),
    (["search", "idx", "q", "-m", "minilm", "--mode", "bm25", "--dims", "64"], 1, "apply to dense"),
    (["search", "idx", "q", "-m", "minilm", "--filter", "novalue"], 1, "Malformed filter"),
    (["search", "idx", "  ", "-m", "minilm"], 1, "The query is empty"),
    (["map", "{texts}", "--clusters", "many"], 2, "Invalid value for '--clusters'"),
    (["map", "{texts}", "--clusters", "0"], 2, "at least 1"),
    (["map", "{texts}", "--sample", "0"], 2, "Invalid value for '--sample'"),
    (["map", "{texts}", "--out", "map.png"], 1, "--out must end in"),
    (["map", "{texts}", "--color-by", "colour"], 1, "No field 'colour'"),
    (["map", "{latin}"], 1, "not UTF-8"),
    (["train", "embedder", "--pairs", "{pairs}", "--out", "{out}", "--rank-range", "5:2"], 2,
     "1 <= LOW <= HIGH"),
    (["train", "embedder", "--pairs", "{pairs}", "--out", "{out}", "--matryoshka", "64,0"], 2,
     "dims must be at least 1"),
    (["train", "embedder", "--pairs", "{pairs}", "--out", "{out}", "--hard-negatives",
      "cross-encoder"], 2, "needs --cross-encoder"),
    (["train", "embedder", "--pairs", "{pairs}", "--out", "{out}", "--temperature", "0"], 1,
     "temperature must be above 0"),
    (["train", "embedder", "--pairs", "{pairs}", "--out", "{out}", "--lr", "0"], 2, "'--lr'"),
    (["train", "embedder", "--pairs", "{bad_pairs}", "--out", "{out}"], 1, "not UTF-8"),
    (["train", "reranker", "--pairs", "{pairs}", "--out", "{out}", "--negatives", "0"], 1,
     "--negatives must be at least 1"),
    (["train", "mine", "--pairs", "{bad_pairs}", "--method", "dense"], 1, "not UTF-8"),
    (["train", "mine", "--pairs", "{pairs}", "--method", "cross-encoder"], 2,
     "needs --cross-encoder"),
    (["eval", "retrieval", "{ds}", "--modes", "dense,fancy"], 1, "Unknown mode 'fancy'"),
    (["eval", "retrieval", "{ds}", "--modes", "rerank"], 1, "needs a cross-encoder"),
    (["eval", "retrieval", "{ds}", "--dims", "64,0"], 1, "dims must be at least 1"),
    (["eval", "retrieval", "{ds}", "--quantize", "int4"], 1, "Unknown quantization 'int4'"),
    (["eval", "retrieval", "{ds}", "-k", "0"], 2, "Invalid value for '-k'"),
    (["eval", "cost", "-n", "10", "--quantize", "int4", "--measure-model"], 1,
     "Unknown quantization 'int4'"),
    (["eval", "cost", "-n", "0"], 2, "Invalid value for '-n'"),
    (["index", "create", "ix", "{texts}", "--chunk-tokens", "4"], 1, "--chunk-tokens 4 is too small"),
    (["index", "create", "ix", "{texts}", "--overlap", "200"], 1, "--overlap 200 must be"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "status", "message"), CASES, ids=lambda v: str(v)[:40])
def test_bad_options_are_refused_before_the_model_loads(
    no_model_loads: None, files: dict[str, str], args: list[str], status: int, message: str
) -> None:
    result = CliRunner().invoke(cli, [a.format(**files) for a in args])
    assert "ModelLoaded" not in result.output, result.output
    assert result.exit_code == status, result.output
    assert message in result.output
    assert not Path(files["out"]).exists()


def test_the_guard_catches_a_load(no_model_loads: None, files: dict[str, str]) -> None:
    """Good options reach the model, and the guard turns the load into its own error."""
    for args in (["embed", "hello"], ["similarity", "--file", files["texts"]]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1
        assert "ModelLoaded: the model minilm started loading" in result.output
