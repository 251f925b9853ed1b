"""The figures layer draws the evaluate reports' figures from the reports' own numbers."""

from __future__ import annotations

from embedlab.evaluate.report import Report
from embedlab.figures.evaluate import add_sentence_figures, add_word_figures


def test_sentence_bars_are_the_rows_correlations() -> None:
    rows = [
        {"model": "a", "pearson": 0.61, "spearman": 0.52},
        {"model": "b", "pearson": 0.33, "spearman": 0.41},
    ]
    report = add_sentence_figures(Report("Lee", rows, ["model", "pearson", "spearman"]))
    (fig,) = report.figures
    bars = {t.name: (list(t.x), list(t.y)) for t in fig.data}
    assert bars == {"Pearson": (["a", "b"], [0.61, 0.33]), "Spearman": (["a", "b"], [0.52, 0.41])}


def test_word_sections_come_from_the_payload() -> None:
    sections = [{"section": "capital", "accuracy": 0.75}, {"section": "plural", "accuracy": 0.5}]
    payload = {"analogies": {"glove 3cosadd": {"sections": sections}}, "pairs": {}}
    report = add_word_figures(Report("Words", [], [], payload=payload))
    (trace,) = report.figures[0].data
    assert trace.name == "glove 3cosadd"
    assert list(trace.x) == ["capital", "plural"] and list(trace.y) == [0.75, 0.5]
