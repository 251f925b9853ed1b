"""The embedded store: create, read aligned views, update semantics, fingerprint, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.data import demo_documents, demo_path
from embedlab.demo import ensure_demo_index
from embedlab.errors import (
    FingerprintMismatchError,
    IndexExistsError,
    IndexNotFoundError,
    InputError,
)
from embedlab.models import Encoder
from embedlab.stores import create_index, drop_index, list_indexes, open_index, update_index
from embedlab.stores.chunking import Chunker, ChunkSettings
from tests.stores.store_helpers import CountingEncoder, NewsCorpus, write_news


def test_demo_index_aligned_views(minilm: Encoder) -> None:
    index = ensure_demo_index(minilm)
    docs = demo_documents()
    assert 40 <= len(docs) <= 60 and {d["lang"] for d in docs} >= {"en", "fr", "de", "es"}
    ids, texts, vecs = index.chunk_ids(), index.texts(), index.vectors()
    assert ids.dtype == np.int64 and vecs.dtype == np.float32
    assert len(ids) == len(texts) == len(vecs) == len(docs)  # short docs: one chunk each
    assert len(set(ids.tolist())) == len(ids)
    np.testing.assert_allclose(vecs[:8], minilm.embed(texts[:8]), atol=1e-5)
    chunks = index.get_chunks(ids[[3, 0]].tolist())
    assert [c.id for c in chunks] == ids[[3, 0]].tolist()
    by_text = {d["text"]: d for d in docs}
    c = chunks[1]
    assert c.source == str(demo_path()) and c.title == by_text[c.text]["title"]
    assert c.metadata["topic"] == by_text[c.text]["topic"] and "text" not in c.metadata
    assert index.metadata()[0]["source"] == str(demo_path())
    assert ensure_demo_index(minilm).generation == index.generation  # not rebuilt
    assert "demo" in list_indexes()
    stats = index.stats()
    assert stats.model == "minilm" and stats.fingerprint == minilm.info.fingerprint
    assert stats.model_info["dims"] == 384 and stats.bytes_on_disk > len(docs) * 384 * 4


def test_news_chunks_match_the_chunker(minilm: Encoder, news_corpus: NewsCorpus) -> None:
    files, index = news_corpus.files, news_corpus.clean
    chunker = Chunker(minilm, ChunkSettings())
    expected = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        expected += [(str(f), i, p.text) for i, p in enumerate(chunker.chunks(text))]
    got = [(c.source, c.position["chunk"], c.text) for c in index.get_chunks(index.chunk_ids())]
    assert sorted(got) == sorted(expected)
    assert index.stats().documents == len(files)
    first = index.get_chunks([int(index.chunk_ids()[0])])[0]
    assert first.title == files[0].read_text().splitlines()[0][2:]


def test_update_embeds_only_what_changed(minilm: Encoder, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    files = write_news(folder, 4, max_chars=1500)
    enc = CountingEncoder(minilm)
    index = create_index("upd", [folder], enc, chunking=ChunkSettings("tokens", 64, 8))
    n0 = len(index)
    assert len(enc.texts) == n0  # each chunk embedded once
    gen0 = index.generation
    ids0 = {c.text: c.id for c in index.get_chunks(index.chunk_ids())}

    enc.texts.clear()
    report = update_index("upd", enc)
    assert enc.texts == [] and report.files_unchanged == 4 and index.generation == gen0

    # change the last paragraph of one file, remove another, add a new one
    text = files[0].read_text(encoding="utf-8")
    files[0].write_text(text + "\nA brand new closing sentence about penguins.\n", encoding="utf-8")
    files[1].unlink()
    write_news(folder, 1, start=10, max_chars=1500)
    report = update_index("upd", enc)
    assert report.files_indexed == 2 and report.files_removed == 1
    assert index.generation > gen0
    new_chunks = index.get_chunks(index.chunk_ids())
    new_texts = {c.text for c in new_chunks}
    # only chunks whose text did not exist before were embedded
    assert set(enc.texts) == new_texts - set(ids0)
    assert any("penguins" in t for t in enc.texts)
    assert len(enc.texts) < 0.5 * n0
    assert not any(c.source == str(files[1]) for c in new_chunks)
    for c in new_chunks:  # unchanged chunks kept their ids
        if c.text in ids0 and c.source == str(files[0]):
            assert c.id == ids0[c.text]
    # the index equals a clean build of the same folder
    clean = create_index("upd-clean", [folder], minilm, chunking=ChunkSettings("tokens", 64, 8))
    key = lambda c: (c.source, c.position["record"], c.position["chunk"], c.text)  # noqa: E731
    a = sorted(index.get_chunks(index.chunk_ids()), key=key)
    b = sorted(clean.get_chunks(clean.chunk_ids()), key=key)
    assert [key(c) for c in a] == [key(c) for c in b]
    row_a = {int(i): r for r, i in enumerate(index.chunk_ids())}
    row_b = {int(i): r for r, i in enumerate(clean.chunk_ids())}
    va = index.vectors()[[row_a[c.id] for c in a]]
    vb = clean.vectors()[[row_b[c.id] for c in b]]
    np.testing.assert_allclose(va, vb, atol=1e-4)


def test_fingerprint_refusal_names_both_models(minilm: Encoder, glove: Encoder) -> None:
    index = ensure_demo_index(minilm)
    index.check_model(minilm)
    with pytest.raises(FingerprintMismatchError) as err:
        index.check_model(glove)
    msg = str(err.value)
    assert "minilm" in msg and glove.info.name in msg
    assert minilm.info.fingerprint in msg and glove.info.fingerprint in msg
    with pytest.raises(FingerprintMismatchError, match="minilm"):
        update_index("demo", glove)


def test_clear_errors(minilm: Encoder, tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="No index named 'nope'"):
        open_index("nope")
    with pytest.raises(InputError, match="No sources"):
        create_index("x", [], minilm)
    (tmp_path / "b.bin.txt").write_bytes(b"\x00\x00binary")
    with pytest.raises(InputError, match="Nothing readable.*binary file"):
        create_index("x", [tmp_path], minilm)
    with pytest.raises(InputError, match="Invalid index name"):
        open_index("../etc")
    ensure_demo_index(minilm)
    with pytest.raises(IndexExistsError, match="index update demo"):
        create_index("demo", [demo_path()], minilm)
    with pytest.raises(IndexNotFoundError):
        drop_index("nope")


def test_cli_index_commands(minilm: Encoder, tmp_path: Path) -> None:
    folder = tmp_path / "cli"
    write_news(folder, 3, max_chars=800)
    (folder / "junk.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    runner = CliRunner()
    res = runner.invoke(
        cli, ["index", "create", "clidx", str(folder), "-q", "--chunk-tokens", "128"]
    )
    assert res.exit_code == 0, res.output
    assert "3 file(s) indexed" in res.output and "junk.txt: not UTF-8" in res.output
    res = runner.invoke(cli, ["index", "info", "clidx"])
    assert res.exit_code == 0 and "fingerprint  " + minilm.info.fingerprint in res.output
    assert "chunk_tokens=128" in res.output and str(folder) in res.output
    res = runner.invoke(cli, ["index", "list"])
    assert "clidx" in res.output and "minilm" in res.output
    res = runner.invoke(cli, ["index", "update", "clidx", "-q"])
    assert res.exit_code == 0 and "3 unchanged" in res.output
    res = runner.invoke(cli, ["index", "info", "missing"])
    assert res.exit_code == 1 and "No index named 'missing'" in res.output
    res = runner.invoke(cli, ["index", "create", "e"])
    assert res.exit_code == 2 and "at least one file or folder" in res.output
    res = runner.invoke(cli, ["index", "drop", "clidx"])
    assert res.exit_code == 0 and "clidx" not in list_indexes()


def test_demo_index_built_once_under_concurrent_calls(
    minilm: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Web routes call ensure_demo_index from threads: one builds, the others wait and open."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path / "home"))
    with ThreadPoolExecutor(3) as pool:
        indexes = list(pool.map(lambda _: ensure_demo_index(minilm), range(3)))
    assert {len(ix) for ix in indexes} == {len(demo_documents())}
    assert len({ix.generation for ix in indexes}) == 1
