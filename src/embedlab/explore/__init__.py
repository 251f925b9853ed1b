"""Explore: inspect vectors, read similarities, compare models, analogies and probes."""

from embedlab.explore.analogy import AnalogyResult, analogy
from embedlab.explore.calibration import calibration_for
from embedlab.explore.compare import ModelComparison, compare_models
from embedlab.explore.inspect import TextInspection, inspect_texts
from embedlab.explore.similarity import score_matrix, score_pair
from embedlab.explore.static_lesson import StaticLesson, static_lesson

__all__ = [
    "AnalogyResult",
    "ModelComparison",
    "StaticLesson",
    "TextInspection",
    "analogy",
    "calibration_for",
    "compare_models",
    "inspect_texts",
    "score_matrix",
    "score_pair",
    "static_lesson",
]
