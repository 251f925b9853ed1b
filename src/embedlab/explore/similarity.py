"""Similarity of texts under one model: a pair with its calibrated reading, or a matrix.

A raw score is hard to read across models, so :func:`score_pair` also gives the cosine's
percentile among the model's own unrelated pairs, and reads it by where it falls among the
model's reference bands (unrelated, same topic, paraphrase, translation:
:mod:`embedlab.explore.calibration`).
The calibration is made of cosines, so the percentile always reads the pair's cosine,
whatever metric is shown.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from embedlab.errors import InputError
from embedlab.explore.calibration import bands_for, calibration_for
from embedlab.explore.inspect import truncation_notes
from embedlab.models.base import Encoder, as_text_list, check_role
from embedlab.vectors.similarity import HIGHER_IS_CLOSER, METRICS, similarity_matrix


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise InputError(f"Unknown metric {metric!r}: use one of {', '.join(METRICS)}.")


@dataclass(frozen=True)
class PairScore:
    """Two texts under one model.

    :param score: the chosen ``metric`` (euclidean: lower is closer).
    :param cosine: their cosine, whatever the metric.
    :param percentile: share (0-100) of the model's unrelated pairs whose cosine is lower.
    :param reading: where the cosine falls among the model's reference bands, in words.
    :param band: the band it reads as (``unrelated``, ``same_topic``, ``paraphrase``).
    :param headline: the reading in a few words (``like same-topic pairs``, ``between ...``).
    :param band_percentiles: band key -> share (0-100) of that band's pairs below the cosine.
    :param bands: each band's summary (label, pair count, 10th-90th percentiles).
    :param truncated: a note per text over the model's token limit (see
        :func:`embedlab.explore.inspect.truncation_notes`).
    """

    a: str
    b: str
    model: str
    metric: str
    score: float
    cosine: float
    percentile: float
    reading: str
    background: dict[str, float]
    seconds: float
    load_seconds: float
    truncated: list[dict[str, object]] = field(default_factory=list)
    band: str = ""
    headline: str = ""
    band_percentiles: dict[str, float] = field(default_factory=dict)
    bands: list[dict[str, object]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record."""
        return dict(self.__dict__)


def score_pair(
    encoder: Encoder, a: str, b: str, *, metric: str = "cosine", role: str = "document"
) -> PairScore:
    """Embed two texts, score them with ``metric``, and read the cosine against the model's
    background of unrelated pairs.
    """
    as_text_list([a, b])
    _check_metric(metric)
    check_role(role)
    start = time.perf_counter()
    vecs = encoder.embed([a, b], role=role)
    seconds = time.perf_counter() - start
    score = float(similarity_matrix(vecs[0], vecs[1], metric)[0, 0])
    cosine = float(similarity_matrix(vecs[0], vecs[1], "cosine")[0, 0])
    cal = calibration_for(encoder)
    bands = bands_for(encoder)
    place = bands.place(cosine)
    return PairScore(
        a=a,
        b=b,
        model=encoder.info.name,
        metric=metric,
        score=score,
        cosine=cosine,
        percentile=cal.percentile(cosine),
        reading=place.reading,
        background=cal.summary(),
        seconds=seconds,
        load_seconds=float(encoder.load_seconds),
        truncated=truncation_notes(encoder, [a, b], role),
        band=place.band,
        headline=place.headline,
        band_percentiles=place.percentiles,
        bands=bands.summaries(),
    )


@dataclass
class SimilarityMatrix:
    """Every text against every text under one model."""

    texts: list[str]
    model: str
    metric: str
    matrix: np.ndarray
    seconds: float
    truncated: list[dict[str, object]] = field(default_factory=list)

    @property
    def higher_is_closer(self) -> bool:
        """True for cosine and dot, False for euclidean distance."""
        return HIGHER_IS_CLOSER[self.metric]

    def rows(self) -> list[list[float]]:
        """The matrix as nested lists of floats (for CSV and JSON)."""
        return [[float(x) for x in row] for row in self.matrix]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record."""
        return {
            "texts": self.texts,
            "model": self.model,
            "metric": self.metric,
            "higher_is_closer": self.higher_is_closer,
            "matrix": self.rows(),
            "seconds": self.seconds,
            "truncated": self.truncated,
        }


def score_matrix(
    encoder: Encoder, texts: Sequence[str], *, metric: str = "cosine", role: str = "document"
) -> SimilarityMatrix:
    """The N x N ``metric`` matrix of ``texts`` under ``encoder``."""
    items = as_text_list(texts)
    _check_metric(metric)
    check_role(role)
    start = time.perf_counter()
    vecs = encoder.embed(items, role=role)
    seconds = time.perf_counter() - start
    return SimilarityMatrix(
        items,
        encoder.info.name,
        metric,
        similarity_matrix(vecs, None, metric),
        seconds,
        truncation_notes(encoder, items, role),
    )
