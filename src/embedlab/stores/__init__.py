"""Stores: named indexes of chunks and their vectors, behind one :class:`Index` interface.

The embedded store (SQLite in WAL mode + immutable ``.npy`` vector segments, one folder per
index under ``home()/indexes``) is the zero set-up default.
"""

from embedlab.stores.api import (
    IndexEntry,
    create_index,
    drop_index,
    list_indexes,
    open_index,
    survey_indexes,
    update_index,
)
from embedlab.stores.base import Candidates, Chunk, FirstStage, Index, IndexStats, QueryIndex
from embedlab.stores.check import CheckReport, check_index
from embedlab.stores.embedded import EmbeddedIndex
from embedlab.stores.filters import And, Eq, Filter, In, Or, parse_filter
from embedlab.stores.write_run import WriteReport

__all__ = [
    "And",
    "Candidates",
    "CheckReport",
    "Chunk",
    "EmbeddedIndex",
    "Eq",
    "Filter",
    "FirstStage",
    "In",
    "Index",
    "IndexEntry",
    "IndexStats",
    "Or",
    "QueryIndex",
    "WriteReport",
    "check_index",
    "create_index",
    "drop_index",
    "list_indexes",
    "open_index",
    "parse_filter",
    "survey_indexes",
    "update_index",
]
