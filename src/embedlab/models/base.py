"""The encoder protocol every backend implements, and the record that describes a model.

A backend implements ``_embed(texts, role)`` on a list of non-empty texts and returns a
float32 matrix; :meth:`Encoder.embed` adds validation, batching and the dtype contract on
top, so no backend repeats them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from embedlab.errors import EmptyInputError, InputError, TextTooLongError

Role = Literal["document", "query"]
ROLES: tuple[str, ...] = ("document", "query")


@dataclass(frozen=True)
class ModelInfo:
    """What a model is: enough to tell two vector spaces apart.

    :param name: the registry name (``minilm``) or a backend-prefixed id (``st:...``).
    :param dims: length of the vectors it returns.
    :param max_tokens: the longest input (in the model's tokens) it reads; ``None`` if unknown.
    :param normalized: whether returned vectors have unit L2 norm.
    :param query_prefix: text put before a query (E5: ``"query: "``).
    :param document_prefix: text put before a document (E5: ``"passage: "``).
    :param weights: sha256 of the weight file, or another stable id of the weights.
    :param backend: which backend runs it.
    :param kind: ``"sentence"`` for text encoders, ``"word"`` for word-vector tables.
    """

    name: str
    dims: int
    max_tokens: int | None
    normalized: bool
    query_prefix: str = ""
    document_prefix: str = ""
    weights: str = ""
    backend: str = ""
    kind: str = "sentence"
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def fingerprint(self) -> str:
        """A short stable hash of what decides the vector space.

        Two encoders with the same fingerprint put a text at the same place; vectors with
        different fingerprints must never be compared.
        """
        key = {
            "name": self.name,
            "weights": self.weights,
            "dims": self.dims,
            "normalized": self.normalized,
            "query_prefix": self.query_prefix,
            "document_prefix": self.document_prefix,
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def prefix(self, role: str) -> str:
        """The prefix this model expects for a text of ``role``."""
        return self.query_prefix if role == "query" else self.document_prefix

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record, fingerprint included."""
        d = asdict(self)
        d["fingerprint"] = self.fingerprint
        return d


def as_text_list(texts: str | Iterable[str]) -> list[str]:
    """Turn one text or an iterable of texts into a validated list.

    :raises EmptyInputError: when there is no text, or a text is empty or only whitespace.
    :raises InputError: when an item is not a string.
    """
    items = [texts] if isinstance(texts, str) else list(texts)
    if not items:
        raise EmptyInputError("No text given: pass at least one non-empty text.")
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise InputError(f"Text #{i} is a {type(t).__name__}, not a string.")
        if not t.strip():
            where = "The text" if len(items) == 1 else f"Text #{i}"
            raise EmptyInputError(f"{where} is empty or only whitespace: give it some words.")
    return items


def check_role(role: str) -> None:
    """Raise :class:`InputError` unless ``role`` is one of :data:`ROLES`."""
    if role not in ROLES:
        raise InputError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")


class Encoder(ABC):
    """Text in, vectors out: ``embed(texts, role) -> float32 (n, dims)``.

    Subclasses set :attr:`info` and implement :meth:`_embed`; they may implement
    :meth:`count_tokens` and :meth:`token_spans` when they have a tokenizer, so that texts
    are counted and chunked by the model's own tokens.
    """

    info: ModelInfo
    #: seconds it took to load the model (set by the registry), kept apart from inference.
    load_seconds: float = 0.0
    batch_size: int = 32

    def embed(
        self, texts: str | Sequence[str], role: Role | str = "document", *, truncate: bool = True
    ) -> np.ndarray:
        """Embed one text or a list of texts.

        :param texts: a string or a sequence of strings, none empty.
        :param role: ``"document"`` or ``"query"``; models with prefixes (E5) use them.
        :param truncate: when ``False``, a text over the model's limit raises
            :class:`TextTooLongError` instead of being cut.
        :return: a float32 array of shape ``(len(texts), dims)``.
        """
        items = as_text_list(texts)
        check_role(role)
        if not truncate:
            self.check_length(items, role)
        out = np.asarray(self._embed(items, role), dtype=np.float32)
        if out.shape != (len(items), self.info.dims):
            raise RuntimeError(
                f"{self.info.name} returned shape {out.shape}, expected {(len(items), self.info.dims)}"
            )
        return out

    @abstractmethod
    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        """Embed a validated, non-empty list of texts (prefixes are the backend's job)."""

    def count_tokens(self, texts: Sequence[str], role: str = "document") -> list[int] | None:
        """Tokens per text as the model sees it (special tokens and prefix included).

        ``None`` when the backend has no tokenizer (remote servers).
        """
        return None

    def counting_tokenizer(self) -> Any:
        """A private copy of ``self.model.tokenizer`` for counting tokens and offsets
        (``None`` when there is none), made once per encoder.

        A Hugging Face fast tokenizer keeps padding and truncation as state that each call
        sets: counting on the tokenizer :meth:`embed` uses, while another thread embeds,
        switched padding off under that batch (a server saw ``Unable to create tensor``).
        """
        tok = self.__dict__.get("_counting_tokenizer")
        if tok is None:
            shared = getattr(getattr(self, "model", None), "tokenizer", None)
            if shared is None:
                return None
            with _COPY_LOCK:
                tok = self.__dict__.get("_counting_tokenizer") or copy.deepcopy(shared)
                self.__dict__["_counting_tokenizer"] = tok
        return tok

    def token_spans(self, text: str) -> list[tuple[int, int]] | None:
        """(start, end) character offsets in ``text`` of each token the model reads.

        Special tokens and the role prefix are left out (:meth:`count_tokens` of ``""``
        counts them). By default: the fast Hugging Face tokenizer at ``self.model.tokenizer``
        when there is one (sentence-transformers models, and wrappers that expose their
        inner ``model``); backends with another tokenizer override this (ONNX). ``None``
        when there is none (remote servers, word tables): the chunker then counts words.
        """
        tok: Any = self.counting_tokenizer()
        if not getattr(tok, "is_fast", False):
            return None
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return [(int(a), int(b)) for a, b in enc["offset_mapping"] if b > a]

    def check_length(
        self, texts: Sequence[str], role: str = "document", counts: Sequence[int] | None = None
    ) -> None:
        """Raise :class:`TextTooLongError` when a text is over :attr:`ModelInfo.max_tokens`.

        :param counts: token counts already made with :meth:`count_tokens` (not counted again).
        """
        limit = self.info.max_tokens
        if counts is None:
            counts = self.count_tokens(texts, role)
        if limit is None or counts is None:
            return
        for i, n in enumerate(counts):
            if n > limit:
                raise TextTooLongError(
                    f"Text #{i} has {n} tokens; {self.info.name} reads at most {limit}. "
                    "Shorten it, split it into chunks, or allow truncation."
                )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.info.name} dims={self.info.dims}>"


#: guards the one-time copy of an encoder's tokenizer (:meth:`Encoder.counting_tokenizer`).
_COPY_LOCK = threading.Lock()


class Reranker(ABC):
    """(query, passages) -> one relevance score per passage, higher is more relevant."""

    name: str

    @abstractmethod
    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """Score each passage against the query; returns float32 ``(len(passages),)``."""
