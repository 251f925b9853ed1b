"""``embedlab demo --no-serve``: the step of ``make run`` that builds the demo index."""

from __future__ import annotations

from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.data.demo_corpus import demo_documents
from embedlab.models import Encoder
from embedlab.stores import open_index


def test_demo_builds_the_demo_index_once(minilm: Encoder) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "Demo index 'demo' is ready" in first.output
    index = open_index("demo")
    assert index.fingerprint == minilm.info.fingerprint
    n_chunks = len(index.chunk_ids())
    assert n_chunks >= len(demo_documents())
    second = runner.invoke(cli, ["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert len(open_index("demo").chunk_ids()) == n_chunks


def test_models_command_lists_the_catalogue() -> None:
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0
    for name in ("minilm", "minilm-int8", "glove-50d", "e5-multilingual"):
        assert name in result.output
