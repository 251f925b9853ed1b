"""Maps of meaning: 2-D projections of a corpus with clusters, outliers, query points and trust.

``build_map(load_corpus(["notes.txt"]), load_model("minilm"))`` gives a :class:`CorpusMap`;
``figures.maps.map_figure(m)`` draws it. Layers: :mod:`.projection` (PCA, t-SNE, UMAP),
:mod:`.clusters` (HDBSCAN / k-means, c-TF-IDF labels, LOF outliers), :mod:`.trust`
(trustworthiness, neighbours kept, separability), :mod:`.sources` (files and indexes),
:mod:`.cache` and :mod:`.build` (the pipeline).
"""

from embedlab.maps.build import CorpusMap, QueryPlacement, build_map, embed_corpus
from embedlab.maps.projection import METHODS, project
from embedlab.maps.sources import Corpus, corpus_from_texts, load_corpus

__all__ = [
    "METHODS",
    "Corpus",
    "CorpusMap",
    "QueryPlacement",
    "build_map",
    "corpus_from_texts",
    "embed_corpus",
    "load_corpus",
    "project",
]
