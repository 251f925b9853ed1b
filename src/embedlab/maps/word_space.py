"""A 2-D word space: words embedded by a real model and projected with the map's own code.

The words (typed, or a ready list with its families) are embedded with GloVe or a sentence
model and projected to 2-D with :func:`embedlab.maps.projection.project` (the Map page's
projection). Related words should land together: each point carries its group (the ready
list's family, or for typed words a k-means cluster found in the full space, never in 2-D),
and :func:`grouping` says how much closer words of one group sit than words of two groups,
in the full space (cosine) and on the map (2-D distance).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from embedlab.errors import InputError
from embedlab.maps.clusters import find_clusters
from embedlab.maps.projection import project
from embedlab.models.base import Encoder
from embedlab.vectors.similarity import cosine_matrix

#: the most words one word space takes.
MAX_WORDS = 200

#: ready lists: family -> words (all in GloVe's vocabulary).
WORD_LISTS: dict[str, dict[str, list[str]]] = {
    "animals, countries, colours": {
        "animals": ["cat", "dog", "horse", "cow", "sheep", "lion", "tiger"],
        "countries": ["france", "germany", "italy", "spain", "japan", "china", "brazil"],
        "colours": ["red", "green", "blue", "yellow", "purple", "orange", "pink"],
    },
    "family, numbers, food": {
        "family": ["mother", "father", "sister", "brother", "daughter", "son", "aunt"],
        "numbers": ["one", "two", "three", "four", "five", "six", "seven"],
        "food": ["bread", "cheese", "butter", "rice", "soup", "meat", "pasta"],
    },
    "sports, music, weather": {
        "sports": ["football", "tennis", "golf", "hockey", "baseball", "basketball", "cricket"],
        "music": ["guitar", "piano", "violin", "drums", "trumpet", "flute", "cello"],
        "weather": ["rain", "snow", "wind", "storm", "sunny", "cloudy", "fog"],
    },
}


@dataclass
class Grouping:
    """Mean similarity inside groups versus across them (full space), and 2-D distances."""

    within_cosine: float
    between_cosine: float
    within_distance_2d: float
    between_distance_2d: float

    @property
    def separated(self) -> bool:
        """Words of one group are closer than words of two groups, in both spaces."""
        return (
            self.within_cosine > self.between_cosine
            and self.within_distance_2d < self.between_distance_2d
        )


@dataclass
class WordSpace:
    """Each word's 2-D point and group, how the map was made, and how well groups hold."""

    model: str
    dims: int
    method: str
    words: list[str]
    groups: list[str]
    grouped_by: str  # "given" (the list's families) or the clustering that found them
    x: list[float]
    y: list[float]
    grouping: Grouping
    nearest: list[str]  # each word's nearest other word by cosine in the full space
    inference_ms: float
    projection_ms: float

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["grouping"]["separated"] = self.grouping.separated
        return out


def grouping(vectors: np.ndarray, coords: np.ndarray, groups: Sequence[str]) -> Grouping:
    """Mean pairwise cosine (full space) and 2-D distance within and between groups.

    :raises InputError: every word in one group, or every group a single word (no pair to compare).
    """
    g = np.asarray(list(groups))
    same = g[:, None] == g[None, :]
    off = ~np.eye(len(g), dtype=bool)
    within, between = same & off, ~same
    if not within.any() or not between.any():
        raise InputError("Grouping needs at least two groups and a group with two words.")
    cos = cosine_matrix(vectors, vectors)
    dist = np.linalg.norm(coords[:, None, :] - coords[None, :, :], axis=-1)
    return Grouping(
        within_cosine=float(cos[within].mean()),
        between_cosine=float(cos[between].mean()),
        within_distance_2d=float(dist[within].mean()),
        between_distance_2d=float(dist[between].mean()),
    )


def _clean(
    words: Sequence[str], groups: Sequence[str] | None
) -> tuple[list[str], list[str] | None]:
    if groups is not None and len(groups) != len(words):
        raise InputError(f"{len(words)} words but {len(groups)} groups: give one group per word.")
    seen: dict[str, str] = {}
    for i, w in enumerate(words):
        word = w.strip()
        if word and word not in seen:
            seen[word] = groups[i].strip() if groups is not None else ""
    if len(seen) < 4:
        raise InputError("Give at least four different words (one per line) to draw a word space.")
    if len(seen) > MAX_WORDS:
        raise InputError(f"{len(seen)} words given; a word space takes at most {MAX_WORDS}.")
    return list(seen), (list(seen.values()) if groups is not None else None)


def word_space(
    words: Sequence[str],
    encoder: Encoder,
    *,
    groups: Sequence[str] | None = None,
    method: str = "pca",
    clusters: int | None = None,
    seed: int = 0,
) -> WordSpace:
    """Embed ``words`` with ``encoder`` and project them to 2-D with the map's ``method``.

    :param groups: each word's family (a ready list's); without it, words are grouped by
        k-means in the full space into ``clusters`` groups (default: about one per 5 words).
    :raises InputError: fewer than 4 or more than :data:`MAX_WORDS` words, a word the model
        does not know, a method that needs more points (the message says how many).
    """
    items, given = _clean(words, groups)
    start = time.perf_counter()
    vectors = np.asarray(encoder.embed(items), dtype=np.float32)
    embed_s = time.perf_counter() - start
    proj = project(vectors, method, seed=seed)
    coords = np.asarray(proj.coords, dtype=np.float64)
    if given is not None and len(set(given)) > 1:
        labels, how = given, "given"
    else:
        k = clusters or max(2, min(8, round(len(items) / 5)))
        found = find_clusters(vectors, items, n_clusters=k, seed=seed)
        labels, how = [f"cluster {int(c) + 1}" for c in found.labels], found.method
    cos = cosine_matrix(vectors, vectors)
    np.fill_diagonal(cos, -np.inf)
    return WordSpace(
        model=encoder.info.name,
        dims=int(vectors.shape[1]),
        method=proj.method,
        words=items,
        groups=labels,
        grouped_by=how,
        x=coords[:, 0].tolist(),
        y=coords[:, 1].tolist(),
        grouping=grouping(vectors, coords, labels),
        nearest=[items[int(j)] for j in cos.argmax(axis=1)],
        inference_ms=1000 * embed_s,
        projection_ms=1000 * proj.seconds,
    )


__all__ = ["MAX_WORDS", "WORD_LISTS", "Grouping", "WordSpace", "grouping", "word_space"]
