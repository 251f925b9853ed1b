"""``embedlab map`` through click's runner: coords.csv, map.html and its errors."""

from __future__ import annotations

import csv

from click.testing import CliRunner

from embedlab.cli.main import cli


def test_map_command_writes_csv_and_html(topic_corpus, tmp_path) -> None:
    sport = tmp_path / "sport.txt"
    brexit = tmp_path / "brexit.txt"
    pick = {"sport": sport, "brexit": brexit}
    for topic, path in pick.items():
        texts = [
            t.split(". ")[0]
            for t, tp in zip(topic_corpus.texts, topic_corpus.topics, strict=True)
            if tp == topic
        ]
        path.write_text("\n".join(texts[:30]))
    runner = CliRunner()
    out_csv = tmp_path / "coords.csv"
    r = runner.invoke(
        cli,
        [
            "map",
            str(sport),
            str(brexit),
            "--method",
            "pca",
            "--clusters",
            "2",
            "--color-by",
            "source",
            "--out",
            str(out_csv),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "trustworthiness" in r.output and "The sources separate" in r.output
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 60 and {row["source"] for row in rows} == {"sport.txt", "brexit.txt"}
    out_html = tmp_path / "map.html"
    r = runner.invoke(
        cli,
        [
            "map",
            str(sport),
            str(brexit),
            "--method",
            "pca",
            "--clusters",
            "2",
            "--out",
            str(out_html),
        ],
    )
    assert r.exit_code == 0, r.output
    page = out_html.read_text()
    assert "scattergl" in page and "Trust" in page and "Outliers" in page
    assert "(from cache" not in r.output  # the CLI says nothing odd on a cache hit


def test_map_command_errors(tmp_path) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text('{"text": "a", "lang": "en"}\n' * 3)
    r = CliRunner().invoke(cli, ["map", str(f), "--color-by", "colour"])
    assert (
        r.exit_code == 1 and "No field 'colour' to colour by. Fields here: lang, source" in r.output
    )
    r = CliRunner().invoke(cli, ["map", str(f), "--out", "x.png"])
    assert r.exit_code == 1 and "--out must end in .html or .csv" in r.output
    r = CliRunner().invoke(cli, ["map", "no-such-index-or-file"])
    assert r.exit_code == 1 and "no-such-index-or-file" in r.output


def test_map_command_on_an_index(minilm) -> None:
    import json

    from embedlab.demo import ensure_demo_index
    from embedlab.stores import open_index

    ensure_demo_index(minilm)
    args = ["map", "demo", "--method", "pca", "--clusters", "3", "--json"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)  # progress goes to stderr
    assert out["points"] == len(open_index("demo").texts()) and len(out["clusters"]) == 3
    assert list((open_index("demo").folder / "maps").glob("*.npz"))  # cached with the index
    again = json.loads(CliRunner().invoke(cli, args).stdout)
    assert all(again["cached"].values())
