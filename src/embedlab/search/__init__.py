"""Search: one retrieval path over an index's first stages, fusion, reranking and traces.

``search()`` is what the CLI, the Search page and the Python API run; ``Retriever`` is the
composition the grid, ``eval rag`` and the training evaluation share with it. The first-stage
kernels (exact, ANN, Matryoshka prefix, int8, binary, BM25) live with the store that answers
them (``embedlab.stores``), so an engine can run them where its data lives.
"""

from embedlab.search.pipeline import Hit, SearchResult, StageTrace, search
from embedlab.search.retrieve import RetrievalConfig, Retrieved, Retriever, Stage

__all__ = [
    "Hit",
    "RetrievalConfig",
    "Retrieved",
    "Retriever",
    "SearchResult",
    "Stage",
    "StageTrace",
    "search",
]
