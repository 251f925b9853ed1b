"""What a map page needs beyond the map itself: its points in a compact form, text search
over its points, the cluster labels' positions, and filters by a field.

:func:`compact` sends 100,000 points as a few base64 typed arrays (float32 coordinates,
small integer codes for clusters and fields) instead of a Plotly figure's JSON, which
repeats every coordinate and hover text as JSON numbers and strings (about 14 MB at
100,000 points): the page builds its WebGL traces from the arrays (see
``benchmarks/map.py --figure`` for the sizes and times in Chromium).
"""

from __future__ import annotations

import base64
import re
from typing import Any

import numpy as np

from embedlab.errors import EmptyInputError
from embedlab.maps.build import CorpusMap

__all__ = [
    "FIELD_VALUES",
    "TEXTS_UP_TO",
    "b64",
    "cluster_labels",
    "codes_of",
    "compact",
    "search_text",
]

#: maps up to this many points carry each point's (shortened) text for hover; larger maps
#: fetch a point's text when it is hovered.
TEXTS_UP_TO = 20_000
#: characters of hover text per point.
TEXT_CHARS = 100
#: a field with more distinct values than this is not offered as a filter or a colour.
FIELD_VALUES = 256


def b64(array: np.ndarray, dtype: str) -> str:
    """``array`` as little-endian ``dtype`` bytes in base64 (what the page decodes into a
    typed array)."""
    return base64.b64encode(
        np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
    ).decode("ascii")


def codes_of(values: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct values (most frequent first) and each point's index into them."""
    names, inverse, counts = np.unique(
        np.asarray(values, dtype=object).astype(str), return_inverse=True, return_counts=True
    )
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return [str(names[i]) for i in order], rank[inverse].astype(np.int32)


def cluster_labels(m: CorpusMap, limit: int = 40) -> list[dict[str, Any]]:
    """Each cluster's label at the median of its points on the map (largest first)."""
    out = []
    for c in sorted(m.clustering.clusters, key=lambda c: -c.size)[:limit]:
        rows = np.flatnonzero(m.clustering.labels == c.id)
        if not len(rows):
            continue
        x, y = np.median(m.coords[rows], axis=0)
        out.append(
            {"id": c.id, "text": c.label, "size": int(len(rows)), "x": float(x), "y": float(y)}
        )
    return out


def _short(text: str, n: int = TEXT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def compact(m: CorpusMap) -> dict[str, Any]:
    """The map's points for the page: base64 typed arrays and the value lists they index.

    - ``x``, ``y``: float32 coordinates; ``trust``: float32 per point (NaN where unscored);
    - ``fields``: for ``cluster``, ``outlier`` and each corpus field with at most
      :data:`FIELD_VALUES` distinct values, ``names`` (most frequent first) and ``codes``
      (uint16, one per point);
    - ``outliers``: int32 rows; ``labels``: the cluster labels' positions;
    - ``texts``: each text shortened to :data:`TEXT_CHARS` for maps up to
      :data:`TEXTS_UP_TO` points, else ``None`` (the page asks for a hovered point's text).
    """
    n = len(m.corpus)
    fields: dict[str, Any] = {}
    skipped = []
    candidates: dict[str, list[str]] = {
        "cluster": [m.clustering.label_of(i) for i in range(n)],
        "outlier": ["outlier" if f else "inlier" for f in m.outliers.mask],
    }
    candidates.update(m.corpus.fields)
    for name, values in candidates.items():
        names, codes = codes_of(list(values))
        if len(names) > FIELD_VALUES:
            skipped.append(name)
            continue
        fields[name] = {"names": names, "codes": b64(codes, "u2")}
    return {
        "n": n,
        "x": b64(m.coords[:, 0], "f4"),
        "y": b64(m.coords[:, 1], "f4"),
        "trust": b64(m.trust.per_point, "f4"),
        "fields": fields,
        "fields_skipped": skipped,
        "outliers": b64(m.outliers.indices, "i4"),
        "labels": cluster_labels(m),
        "texts": [_short(t) for t in m.corpus.texts] if n <= TEXTS_UP_TO else None,
    }


def search_text(m: CorpusMap, query: str, limit: int = 2000) -> tuple[list[int], int]:
    """Rows whose text holds every word of ``query`` (case-insensitive, whole words at
    their start: ``rain`` finds "rain" and "raining", not "train"), up to ``limit``, and
    how many match in all.

    :raises EmptyInputError: a query with no word.
    """
    words = re.findall(r"\w+", query.lower())
    if not words:
        raise EmptyInputError("Type a word to search the map's texts for.")
    patterns = [re.compile(rf"\b{re.escape(w)}", re.IGNORECASE) for w in words]
    rows = [i for i, text in enumerate(m.corpus.texts) if all(p.search(text) for p in patterns)]
    return rows[:limit], len(rows)
