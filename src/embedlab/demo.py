"""The demo index: the views (CLI, web lab, Python API) build it from the demo corpus.

The corpus itself is data (:mod:`embedlab.data.demo_corpus`); building an index over it
needs a model and a store, so it lives here, above every layer (README's layer order).
"""

from __future__ import annotations

from embedlab.data.demo_corpus import demo_path
from embedlab.errors import IndexExistsError
from embedlab.models import Encoder
from embedlab.stores import Index, create_index, open_index
from embedlab.stores.embedded import exists

#: name of the index ``make run`` builds from the demo corpus.
DEMO_INDEX = "demo"


def ensure_demo_index(encoder: Encoder | str = "minilm") -> Index:
    """The index ``demo`` over the demo corpus, created on first use with ``encoder``.

    Safe to call from several threads or processes at once: the first builds the index,
    the others wait for its write lock and then open it.
    """
    if exists(DEMO_INDEX):
        return open_index(DEMO_INDEX)
    try:
        return create_index(DEMO_INDEX, [demo_path()], encoder, wait=600)
    except IndexExistsError:
        return open_index(DEMO_INDEX)


__all__ = ["DEMO_INDEX", "ensure_demo_index"]
