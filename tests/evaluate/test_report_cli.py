"""Reports (HTML/JSON/CSV), the cost calculator and the ``embedlab eval`` commands."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.errors import InputError
from embedlab.evaluate.cost import estimate_cost
from embedlab.evaluate.grid import pareto_front, run_grid
from embedlab.evaluate.make import make_news_dataset
from embedlab.evaluate.report import compare_queries, grid_report, write_report
from embedlab.figures.evaluate import add_grid_figures

from .conftest import CHARS, N_ARTICLES


@pytest.fixture(scope="module")
def news_folder(tmp_path_factory) -> Path:
    """The same texts as the news_run fixture, so the embedding cache already holds them."""
    out = tmp_path_factory.mktemp("cli") / "news"
    make_news_dataset(out, limit=N_ARTICLES, chars=CHARS)
    return out


@pytest.fixture(scope="module")
def small_grid(news_run, minilm):
    return run_grid(
        news_run.dataset,
        [minilm],
        ["dense", "bm25"],
        [384, 64],
        ["none", "binary"],
        k=10,
        latency_sample=3,
    )


def test_compare_queries_worst_first(small_grid) -> None:
    rows = compare_queries(small_grid, "minilm dense 384d float32", "minilm dense 64d binary")
    deltas = [r["delta"] for r in rows]
    assert deltas == sorted(deltas) and deltas[0] < 0  # some queries got worse with 8 bytes
    with pytest.raises(InputError, match="No configuration"):
        compare_queries(small_grid, "nope", "bm25")


def test_pareto_front() -> None:
    rows = [
        {"bytes_per_vector": 1536, "q": 0.9},
        {"bytes_per_vector": 48, "q": 0.85},
        {"bytes_per_vector": 512, "q": 0.8},  # beaten by the 48-byte row
        {"bytes_per_vector": 8, "q": 0.7},
        {"bytes_per_vector": None, "q": 0.99},  # BM25: no vectors, left out
    ]
    assert pareto_front(rows, "q") == [3, 1, 0]


def test_reports_in_three_formats(small_grid, tmp_path: Path) -> None:
    report = add_grid_figures(grid_report(small_grid))
    html_path = write_report(report, tmp_path / "r.html")
    page_text = html_path.read_text()
    assert "<script src" not in page_text and "Plotly" in page_text  # plotly.js inlined
    assert "per-query-data" in page_text and "Pareto front" in page_text
    data = json.loads(write_report(report, tmp_path / "r.json").read_text())
    assert len(data["rows"]) == 5 and "nDCG@10" in data["rows"][0]
    assert set(data["per_query"]) == {r["config"] for r in data["rows"]}
    # the numbers written are the grid's own means, in the JSON and in the CSV
    means = {r.config.label: r.metrics.mean["nDCG@10"] for r in small_grid.results}
    assert {r["config"]: r["nDCG@10"] for r in data["rows"]} == pytest.approx(means, abs=1e-9)
    with open(write_report(report, tmp_path / "r.csv")) as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["config"] == "bm25" and float(rows[1]["nDCG@10"]) > 0.8
    assert {r["config"]: float(r["nDCG@10"]) for r in rows} == pytest.approx(means, abs=1e-6)
    with pytest.raises(InputError, match=".html, .json, .csv"):
        write_report(report, tmp_path / "r.txt")


@pytest.mark.browser
def test_html_report_in_browser(small_grid, tmp_path: Path, browser, test_output) -> None:
    html_path = write_report(add_grid_figures(grid_report(small_grid)), tmp_path / "r.html")
    page = browser.new_page()
    page.goto(html_path.as_uri())
    page.wait_for_selector("#cmp-body tr")
    assert page.locator("#results tbody tr").count() == 5
    assert page.locator(".js-plotly-plot").count() == 3
    first = page.locator("#cmp-body tr").first
    assert "worse" in (first.get_attribute("class") or "")
    page.screenshot(path=str(test_output / "evaluate-report.png"), full_page=False)
    page.close()


def test_cost_estimate() -> None:
    small = estimate_cost(2000, model_dims=384, quantize="binary", sample=4000)
    assert small.bytes_per_vector == 48 and small.storage_bytes == 2000 * 48
    assert small.measured_at == [1000, 2000] and small.search_ms > 0
    big = estimate_cost(
        10_000_000, model_dims=384, dims=128, quantize="int8", rescore=True, sample=4000
    )
    assert big.ram_bytes == 10_000_000 * 128
    assert big.storage_bytes == 10_000_000 * (128 + 4 * 384)  # float vectors kept to rescore
    assert big.search_ms > big.measured_ms[-1]  # extrapolated past the sample
    assert "extrapolated linearly" in big.assumption
    with pytest.raises(InputError, match="between 1 and 384"):
        estimate_cost(10, model_dims=384, dims=999)


def test_cli_make_and_retrieval(news_folder: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["eval", "make", "--news", str(tmp_path / "n"), "--limit", "5"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "n" / "qrels" / "test.tsv").exists()
    out = tmp_path / "grid.json"
    res = runner.invoke(
        cli,
        [
            "eval",
            "retrieval",
            str(news_folder),
            "-m",
            "minilm",
            "--modes",
            "dense,bm25",
            "--dims",
            "384,128",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(json.loads(out.read_text())["rows"]) == 3
    res = runner.invoke(cli, ["eval", "retrieval", str(news_folder), "--modes", "sparse"])
    assert res.exit_code == 1 and "Unknown mode 'sparse'" in res.output


def test_cli_words_sentences_cost(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        cli, ["eval", "words", "-m", "glove-50d", "--restrict-vocab", "3000", "--json"]
    )
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)["rows"][0]
    assert row["model"] == "glove-50d" and 0.2 < row["analogy 3cosadd"] < 1
    res = runner.invoke(cli, ["eval", "words", "-m", "minilm"])
    assert res.exit_code == 1 and "no vocabulary" in res.output
    res = runner.invoke(
        cli, ["eval", "sentences", "-m", "glove-50d", "--out", str(tmp_path / "s.csv")]
    )
    assert res.exit_code == 0 and (tmp_path / "s.csv").exists()
    res = runner.invoke(
        cli,
        ["eval", "cost", "-n", "100000", "--dims", "384,64", "--quantize", "none,binary", "--json"],
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    # a 64-d prefix is kept as bfloat16 by the search layer: 2 bytes a dimension
    assert [r["bytes_per_vector"] for r in rows] == [1536, 48, 128, 8]
    assert [r["quantize"] for r in rows] == ["float32", "binary", "bfloat16", "binary"]
