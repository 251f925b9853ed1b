"""Static models: MiniLM distilled by model2vec (a small word vocabulary keeps it quick).

The distilled model must load by prefix and by folder, embed exactly as model2vec's own
``StaticModel.encode`` does (and as a plain numpy lookup-and-mean from its files), keep its
teacher's orderings on a few pairs, refuse text it has no token for, and carry its own
fingerprint so an index built with the teacher refuses it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from embedlab.errors import FingerprintMismatchError, InputError
from embedlab.models import Encoder, load_model
from embedlab.models.static_backend import StaticEncoder, is_static_folder
from embedlab.train.distill import DistillResult, distill_static

TEXTS = [
    "I love this movie",
    "I hate this movie",
    "The cat sat on the mat",
    "This film was wonderful",
    "This film was terrible",
    "The food was good",
    "The meal was tasty",
    "The train was late",
    "A dog slept on the rug",
    "Stock markets fell sharply",
    "Shares dropped steeply",
]
WORDS = sorted({w for t in TEXTS for w in re.findall(r"\w+", t.lower())})

#: (anchor, closer, farther) as MiniLM orders them: the sentiment trap and paraphrases.
ORDERINGS = [
    ("I love this movie", "I hate this movie", "The cat sat on the mat"),  # sentiment trap
    ("This film was wonderful", "This film was terrible", "The train was late"),  # trap
    ("The food was good", "The meal was tasty", "The train was late"),  # paraphrase
    ("Stock markets fell sharply", "Shares dropped steeply", "The food was good"),
    ("The cat sat on the mat", "A dog slept on the rug", "Stock markets fell sharply"),
]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[DistillResult, list[str]]:
    out = tmp_path_factory.mktemp("static") / "small"
    said: list[str] = []
    result = distill_static(
        "minilm", out, pca_dims=32, vocabulary=WORDS, vocabulary_only=True, progress=said.append
    )
    return result, said


@pytest.fixture(scope="module")
def static(small: tuple[DistillResult, list[str]]) -> StaticEncoder:
    enc = load_model(f"static:{small[0].out}")
    assert isinstance(enc, StaticEncoder)
    return enc


def test_distil_writes_a_model2vec_folder(small: tuple[DistillResult, list[str]]) -> None:
    result, said = small
    out = Path(result.out)
    assert is_static_folder(out)
    assert result.dims == 32 and result.vocabulary_words == len(WORDS)
    # the words, plus [PAD] and [UNK]; none of MiniLM's 30k subword tokens
    assert len(WORDS) <= result.tokens <= len(WORDS) + 5
    assert json.loads((out / "distill.json").read_text())["vocabulary_only"] is True
    assert said and "distilling minilm" in said[0] and str(out) in said[-1]
    assert not list(out.parent.glob(".small.partial-*"))  # written aside, renamed into place


def test_loads_by_prefix_and_by_folder_with_its_own_fingerprint(
    static: StaticEncoder, small: tuple[DistillResult, list[str]], minilm: Encoder
) -> None:
    out = Path(small[0].out)
    by_folder = load_model(str(out))
    assert by_folder.info.fingerprint == static.info.fingerprint == small[0].fingerprint
    info = static.info
    assert (info.dims, info.normalized, info.backend, info.max_tokens) == (
        32,
        True,
        "model2vec",
        512,
    )
    digest = hashlib.sha256((out / "model.safetensors").read_bytes()).hexdigest()
    assert info.weights == f"sha256:{digest}"
    assert info.fingerprint != minilm.info.fingerprint


def test_embeds_like_model2vec_and_like_a_plain_lookup(static: StaticEncoder) -> None:
    from model2vec import StaticModel
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    ours = static.embed(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == (len(TEXTS), 32)
    folder = Path(static.info.name.removeprefix("static:"))
    # model2vec's reference (it pools the float16 table in float16)
    ref = StaticModel.from_pretrained(folder, force_download=False).encode(TEXTS)
    np.testing.assert_allclose(ours, ref.astype(np.float32), atol=2e-3)
    # the same thing by hand from the two files: token rows, mean, unit length
    table = load_file(str(folder / "model.safetensors"))["embeddings"].astype(np.float32)
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    unk = tok.token_to_id("[UNK]")
    for text, vec in zip(TEXTS, ours, strict=True):
        ids = [i for i in tok.encode(text, add_special_tokens=False).ids if i != unk]
        mean = table[ids].mean(axis=0)
        np.testing.assert_allclose(vec, mean / np.linalg.norm(mean), atol=1e-5)
    assert static.count_tokens(["The cat sat"]) == [3]
    assert static.tokens("The cat, sat!") == ["the", "cat", "sat"]


def test_keeps_the_teachers_orderings(static: StaticEncoder, minilm: Encoder) -> None:
    for enc in (minilm, static):
        for anchor, closer, farther in ORDERINGS:
            v = enc.embed([anchor, closer, farther])
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            assert v[0] @ v[1] > v[0] @ v[2], (enc.info.name, anchor, closer, farther)


def test_text_with_no_known_token_is_refused(static: StaticEncoder) -> None:
    with pytest.raises(InputError, match="no token .* knows"):
        static.embed("xyzzy qwfp")
    with pytest.raises(InputError, match=r"Text #1 \('zzz'\)"):
        static.embed(["the movie", "zzz"])
    # unknown words beside known ones are dropped, as model2vec does
    np.testing.assert_allclose(static.embed("the movie xyzzy"), static.embed("the movie"))


def test_an_index_built_with_the_teacher_refuses_it(
    static: StaticEncoder, minilm: Encoder, tmp_path: Path
) -> None:
    from embedlab.search.pipeline import search
    from embedlab.stores import create_index, drop_index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The cat sat on the mat.", encoding="utf-8")
    (docs / "b.txt").write_text("Stock markets fell sharply.", encoding="utf-8")
    index = create_index("static-fp", [docs], minilm)
    try:
        index.check_model(minilm)
        with pytest.raises(FingerprintMismatchError, match="minilm"):
            index.check_model(static)
        with pytest.raises(FingerprintMismatchError):
            search(index, "the cat", encoder=static)
    finally:
        drop_index("static-fp")
