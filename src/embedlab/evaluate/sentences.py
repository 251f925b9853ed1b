"""Document similarity on the Lee set: the model's cosines against human ratings.

Lee, Pincombe and Welsh (2005) had people rate the similarity of every pair of 50 short news
documents (``lee.cor``, latin-1, one per line); ``similarities0-1.txt`` holds the 50 x 50
matrix of mean ratings in [0, 1]. As gensim's own Lee test does, the 1,225 pairs above the
diagonal are compared: Pearson (gensim's ``np.corrcoef``) and Spearman of the model's cosine
against the human score. gensim's LSI on the background corpus reaches about 0.6 Pearson.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import DatasetError
from embedlab.evaluate.cache import embed_cached
from embedlab.models.base import Encoder
from embedlab.vectors import cosine_matrix


@dataclass(frozen=True)
class DocumentSimilarityResult:
    """Correlation of one model's cosines with human similarity ratings."""

    model: str
    pearson: float
    spearman: float
    pairs: int
    documents: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_lee(
    docs_path: str | Path | None = None, sims_path: str | Path | None = None
) -> tuple[list[str], np.ndarray]:
    """The Lee documents and the human similarity matrix (gensim's test files by default).

    :raises DatasetError: the matrix is not square, or its size differs from the documents.
    """
    from embedlab.data import gensim_test_file

    docs_file = Path(docs_path) if docs_path else gensim_test_file("lee.cor")
    sims_file = Path(sims_path) if sims_path else gensim_test_file("similarities0-1.txt")
    docs = [line.strip() for line in docs_file.read_bytes().decode("latin-1").splitlines()]
    docs = [d for d in docs if d]
    try:
        sims = np.loadtxt(sims_file, ndmin=2)
    except ValueError as exc:
        raise DatasetError(f"{sims_file}: expected a square matrix of numbers ({exc}).") from exc
    if sims.shape[0] != sims.shape[1]:
        raise DatasetError(f"{sims_file}: the rating matrix is {sims.shape}, not square.")
    if sims.shape[0] != len(docs):
        raise DatasetError(
            f"{sims_file} rates {sims.shape[0]} documents but {docs_file} holds {len(docs)}."
        )
    return docs, sims


def evaluate_document_similarity(
    encoder: Encoder,
    docs_path: str | Path | None = None,
    sims_path: str | Path | None = None,
    *,
    cache: bool = True,
) -> DocumentSimilarityResult:
    """Pearson and Spearman of the encoder's cosines with the human ratings (upper triangle).

    The document vectors go through the evaluation's embedding cache.
    """
    from scipy import stats

    docs, human = read_lee(docs_path, sims_path)
    embedded = embed_cached(encoder, docs, "document", cache=cache)
    vectors, seconds = embedded.vectors, embedded.seconds
    model = cosine_matrix(vectors)
    upper = np.triu_indices(len(docs), 1)
    a, b = model[upper].astype(np.float64), human[upper]
    return DocumentSimilarityResult(
        model=encoder.info.name,
        pearson=float(np.corrcoef(a, b)[0, 1]),
        spearman=float(stats.spearmanr(a, b)[0]),
        pairs=len(a),
        documents=len(docs),
        seconds=seconds,
    )


__all__ = ["DocumentSimilarityResult", "evaluate_document_similarity", "read_lee"]
