"""The one error hierarchy of embedlab.

Every error the library raises on purpose is an :class:`EmbedlabError`. The groups below
let callers catch a family (``except ModelError``); the CLI and the web layer turn any
:class:`EmbedlabError` into a short message (and an HTTP status, see ``http_status``).
Each message says what happened and what to do about it.
"""

from __future__ import annotations


class EmbedlabError(Exception):
    """Base class of every error embedlab raises on purpose."""

    #: HTTP status the web layer answers with for this error.
    http_status: int = 400


# --- bad input -------------------------------------------------------------------------


class InputError(EmbedlabError):
    """The caller passed something the library cannot work with."""


class EmptyInputError(InputError):
    """A text, a list of texts or a query is empty or only whitespace."""


class TextTooLongError(InputError):
    """A text is longer than the model accepts and truncation was not allowed."""

    http_status = 413


class DimensionMismatchError(InputError):
    """Two vectors or matrices do not have the same number of dimensions."""


class BatchTooLargeError(InputError):
    """A request holds more texts than the server accepts at once."""

    http_status = 413


# --- models ----------------------------------------------------------------------------


class ModelError(EmbedlabError):
    """A model cannot be found, installed, verified or run."""


class UnknownModelError(ModelError):
    """No model is registered under that name."""

    http_status = 404


class ModelNotInstalledError(ModelError):
    """The model is known, but the package that carries it is not installed."""

    http_status = 501


class WeightHashMismatchError(ModelError):
    """A weight file's sha256 differs from the one pinned for it: it is refused."""

    http_status = 500


class RemoteModelError(ModelError):
    """A remote embedding server (Ollama, OpenAI-compatible) failed or is unreachable."""

    http_status = 502


# --- stores and indexes ----------------------------------------------------------------


class StoreError(EmbedlabError):
    """An index or its store cannot be read or written."""


class IndexNotFoundError(StoreError):
    """No index exists under that name."""

    http_status = 404


class FingerprintMismatchError(StoreError):
    """An index was built with another model than the one it is queried with."""

    http_status = 409


class IndexLockedError(StoreError):
    """Another process is writing to the index."""

    http_status = 423


class IndexExistsError(StoreError):
    """An index of that name already exists."""

    http_status = 409


class IndexDamagedError(StoreError):
    """An index's files are damaged (unreadable database, truncated or altered segment); the
    message names the file and how to rebuild or drop the index."""

    http_status = 500


class ReadOnlyStoreError(StoreError):
    """A write (create, update, drop) was refused: the index's folder cannot be written."""

    http_status = 403


class DiskFullError(StoreError):
    """The disk filled up while an index was written; the index keeps its last commit."""

    http_status = 507


# --- data sets, evaluation, training -------------------------------------------------


class DatasetError(EmbedlabError):
    """A data set, qrels or pairs file is missing or malformed."""


class TrainingError(EmbedlabError):
    """A training run cannot start or continue."""


# --- maps (appended by the maps area) ----------------------------------------------------


class TooFewPointsError(InputError):
    """A projection or clustering method needs more points than it was given."""


class TooManyPointsError(InputError):
    """A method cannot take this many points here; it offers a sample of a stated size."""

    http_status = 413


class DegenerateVectorsError(InputError):
    """All the vectors are the same (every text embeds alike): nothing to map."""


class UnknownFieldError(InputError):
    """A field (to colour by, or holding the text) is not in the data; the message lists them."""


# --- serving (appended by the web lab) -------------------------------------------------


class ServerBusyError(EmbedlabError):
    """The server has too many texts waiting for a model; the caller should retry later."""

    http_status = 503


class AccessDeniedError(EmbedlabError):
    """A request named something the server does not open for requests (a path, a folder
    outside embedlab's home, a remote model), or came from a host, origin or client the
    server does not answer. The message says what is allowed."""

    http_status = 403


class TooManyJobsError(EmbedlabError):
    """Every slot for long jobs (maps, grids, training, indexing) is taken; retry later."""

    http_status = 429


class JobCancelledError(EmbedlabError):
    """A long job (map, grid, indexing, training) was cancelled by its user; the work
    stopped at its next progress check."""

    http_status = 409


class JobNotFoundError(InputError):
    """No job of that id in this server (finished jobs are kept for a while only)."""

    http_status = 404


# --- ask: chat models and retrieval-augmented answers (appended by the ask area) ------


class EmptyIndexError(StoreError):
    """The index exists but holds no chunks: there is nothing to answer from."""

    http_status = 409


class ChatError(EmbedlabError):
    """A chat model cannot be reached, or cannot answer this prompt."""

    http_status = 502


class ChatUnreachableError(ChatError):
    """No chat model answered: the message names the URL and what came back."""

    http_status = 502


class ChatStreamError(ChatError):
    """An answer's stream was cut off midway; what arrived is kept in ``partial``."""

    http_status = 502

    def __init__(self, message: str, partial: str = "", result: object = None) -> None:
        super().__init__(message)
        #: the text that arrived before the cut.
        self.partial = partial
        #: the pipeline's result so far (an ``AskResult``), when the pipeline raised it.
        self.result = result


class ContextWindowError(ChatError):
    """The chat model's window cannot hold the instruction, the question and one chunk."""

    http_status = 413


class QuestionTooLongError(ChatError):
    """The question is longer than the limit (in the chat model's tokens)."""

    http_status = 413


# --- scale: a Ray cluster for embedding (appended by the Ray area) ---------------------


class RayClusterError(ModelError):
    """The Ray cluster that was to embed is unreachable, refused this driver, or its encoder
    actors kept dying on a batch (the message names the address)."""

    http_status = 502


__all__ = [
    "RayClusterError",
    "QuestionTooLongError",
    "EmptyIndexError",
    "ContextWindowError",
    "ChatUnreachableError",
    "ChatStreamError",
    "ChatError",
    "AccessDeniedError",
    "BatchTooLargeError",
    "DatasetError",
    "DegenerateVectorsError",
    "DimensionMismatchError",
    "DiskFullError",
    "EmbedlabError",
    "EmptyInputError",
    "FingerprintMismatchError",
    "IndexDamagedError",
    "IndexExistsError",
    "IndexLockedError",
    "IndexNotFoundError",
    "InputError",
    "JobCancelledError",
    "JobNotFoundError",
    "ModelError",
    "ModelNotInstalledError",
    "ReadOnlyStoreError",
    "RemoteModelError",
    "ServerBusyError",
    "StoreError",
    "TextTooLongError",
    "TooManyJobsError",
    "TooFewPointsError",
    "TooManyPointsError",
    "TrainingError",
    "UnknownFieldError",
    "UnknownModelError",
    "WeightHashMismatchError",
]


# --- server stores (Milvus) ----------------------------------------------------------


class MilvusUnreachableError(StoreError):
    """The Milvus server of a ``milvus://HOST:PORT`` store did not answer (the message
    names the URI and what came back)."""

    http_status = 503


class NotAnIndexError(StoreError):
    """A collection in a server store was not made by embedlab (no model fingerprint in
    its properties)."""

    http_status = 409


class BM25UnavailableError(StoreError):
    """The server has no BM25 (full-text) function; keyword search runs in this process."""

    http_status = 501


__all__ += ["BM25UnavailableError", "MilvusUnreachableError", "NotAnIndexError"]
