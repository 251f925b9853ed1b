"""Vectors: pure numpy, no I/O. Similarity, stats, Matryoshka, quantization, calibration."""

from embedlab.vectors.calibrate import Calibration
from embedlab.vectors.matryoshka import truncate
from embedlab.vectors.quantize import (
    Int8Calibration,
    bytes_per_vector,
    first_stage_bytes,
    first_stage_precision,
    from_int8,
    hamming_matrix,
    index_storage_bytes,
    int8_scores,
    to_binary,
    to_float16,
    to_int8,
)
from embedlab.vectors.similarity import (
    HIGHER_IS_CLOSER,
    METRICS,
    cosine_matrix,
    dot_matrix,
    euclidean_matrix,
    normalize,
    similarity,
    similarity_matrix,
    top_k,
    top_k_rows,
)
from embedlab.vectors.stats import VectorStats, vector_stats

__all__ = [
    "HIGHER_IS_CLOSER",
    "METRICS",
    "Calibration",
    "Int8Calibration",
    "VectorStats",
    "bytes_per_vector",
    "cosine_matrix",
    "dot_matrix",
    "euclidean_matrix",
    "first_stage_bytes",
    "first_stage_precision",
    "from_int8",
    "hamming_matrix",
    "index_storage_bytes",
    "int8_scores",
    "normalize",
    "similarity",
    "similarity_matrix",
    "to_binary",
    "to_float16",
    "to_int8",
    "top_k",
    "top_k_rows",
    "truncate",
    "vector_stats",
]
