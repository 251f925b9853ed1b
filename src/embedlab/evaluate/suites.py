"""Word and sentence benchmarks over several models, as one report each."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from embedlab.errors import InputError
from embedlab.evaluate.report import Report, simple_report
from embedlab.evaluate.sentences import evaluate_document_similarity
from embedlab.evaluate.words import METHODS, evaluate_analogies, evaluate_word_pairs
from embedlab.models.base import Encoder

#: word-similarity files gensim ships (more can be passed as paths).
DEFAULT_PAIRS: tuple[str, ...] = ("wordsim353.tsv",)


def _load(models: Sequence[str | Encoder]) -> list[Encoder]:
    from embedlab.models import load_model

    if not models:
        raise InputError("Name at least one model (--models glove-50d,...).")
    return [load_model(m) if isinstance(m, str) else m for m in models]


def words_report(
    models: Sequence[str | Encoder],
    *,
    analogies: str | Path | None = None,
    pairs: Sequence[str | Path] | None = None,
    restrict_vocab: int = 300000,
    methods: Sequence[str] = ("3cosadd",),
) -> Report:
    """Analogy accuracy (each method) and word-pair correlations for each word-vector model.

    Figures: :func:`embedlab.figures.evaluate.add_word_figures`.

    :raises InputError: a model has no vocabulary (a sentence encoder) or a method is unknown.
    """
    from embedlab.data import gensim_test_file

    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise InputError(f"Unknown analogy method {bad[0]!r}: use any of {', '.join(METHODS)}.")
    analogy_file = Path(analogies) if analogies else gensim_test_file("questions-words.txt")
    pair_files = [Path(p) for p in pairs] if pairs else [gensim_test_file(n) for n in DEFAULT_PAIRS]
    rows: list[dict[str, Any]] = []
    payload: dict[str, Any] = {"analogies": {}, "pairs": {}}
    for enc in _load(models):
        if not hasattr(enc, "words"):
            raise InputError(
                f"{enc.info.name} is a sentence encoder with no vocabulary: word benchmarks "
                "need word vectors (glove-50d, or a trained word2vec folder as words:<folder>)."
            )
        row: dict[str, Any] = {"model": enc.info.name, "vocabulary": len(enc.words)}
        for method in methods:
            res = evaluate_analogies(enc, analogy_file, restrict_vocab, method)
            row[f"analogy {method}"] = res.accuracy
            row["analogy oov %"] = res.oov_ratio
            payload["analogies"][f"{enc.info.name} {method}"] = res.to_dict()
        for pf in pair_files:
            wp = evaluate_word_pairs(enc, pf, restrict_vocab)
            row[f"{pf.stem} spearman"] = wp.spearman
            row[f"{pf.stem} pearson"] = wp.pearson
            row[f"{pf.stem} oov"] = wp.oov
            payload["pairs"][f"{enc.info.name} {pf.stem}"] = wp.to_dict()
        rows.append(row)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    notes = [
        f"Analogies: {analogy_file.name}, vocabulary restricted to the first {restrict_vocab:,} "
        "words, case-insensitive, questions with unknown words skipped (as gensim).",
        "Word pairs: Spearman and Pearson of cosines vs human scores; pairs with unknown "
        "words are skipped and counted in the oov column.",
    ]
    return simple_report("Word benchmarks", rows, columns, [], notes, payload)


def sentences_report(
    models: Sequence[str | Encoder],
    docs_path: str | Path | None = None,
    sims_path: str | Path | None = None,
) -> Report:
    """Lee document similarity for each model (figures: ``add_sentence_figures``)."""
    results = [evaluate_document_similarity(e, docs_path, sims_path) for e in _load(models)]
    rows = [r.to_dict() for r in results]
    notes = [
        "50 Lee documents, 1,225 rated pairs (upper triangle of similarities0-1.txt); "
        "gensim's LSI baseline reaches about 0.6 Pearson."
    ]
    columns = ["model", "pearson", "spearman", "pairs", "documents", "seconds"]
    return simple_report("Document similarity (Lee)", rows, columns, [], notes)


__all__ = ["DEFAULT_PAIRS", "sentences_report", "words_report"]
