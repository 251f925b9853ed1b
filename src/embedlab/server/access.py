"""The one access policy of the web server: what a request may make it open.

A request names things, never paths. It may name:

- a **catalogue model** (``minilm``, ``glove-50d``...: :mod:`embedlab.models.registry`);
- a **trained model** saved in ``home()/models/NAME``, as ``st:NAME`` (a sentence model),
  ``words:NAME`` (word vectors) or ``static:NAME`` (a distilled static model); a **trained
  reranker** there by its bare ``NAME``;
- an **index** in ``home()/indexes`` and a **test collection** in ``home()/datasets``, by name;
- whatever the **operator** started the server with (``embedlab serve --models`` and
  ``--rerankers``), spelled exactly as the operator spelled it.

Anything that looks like a filesystem path (``/``, ``\\``, ``..``, a leading ``~``, a
drive letter, ``st:/...``) is refused with a 403 before anything is opened, as is a remote
model (``ollama:``, ``openai:``) the operator did not start the server with. Files reach
the server in the request itself (a map of pasted ``texts``), never by path.

How a route follows the policy (new routes: do the same):

1. Name request fields that name something with one of :data:`NAMING_FIELDS` (``model``,
   ``index``, ``rerank``...). :class:`~embedlab.server.guard.BodyGuard` refuses a path in
   such a field (top level of a JSON body, or a query parameter) before any route runs.
   A new kind of name needs its word added there.
2. Resolve the name through the app's policy (``policy_of(request)``) before opening it:
   :meth:`AccessPolicy.model`, :meth:`~AccessPolicy.reranker`, :meth:`~AccessPolicy.index`,
   :meth:`~AccessPolicy.dataset`. Models through the pool are checked by the pool itself
   (``pool.encoder(name)``); pass ``trusted=True`` only for a name read from a store the
   operator made (an index's own model).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab import settings
from embedlab.errors import AccessDeniedError
from embedlab.models.registry import PREFIXES

__all__ = [
    "NAMING_FIELDS",
    "AccessPolicy",
    "check_fields",
    "looks_like_path",
    "policy_of",
    "trained_dir",
]

#: request fields (JSON body keys or query parameters) whose values name something to open.
NAMING_FIELDS: frozenset[str] = frozenset(
    {
        "model", "models", "rerank", "reranker", "rerankers", "index", "indexes",
        "source", "sources", "dataset", "datasets", "collection", "name", "file",
        "files", "path", "paths", "folder", "dir", "directory",
    }
)  # fmt: skip
#: backends whose argument is a folder: a request names a trained model in home()/models.
LOCAL_PREFIXES = ("st", "words", "static")
_DRIVE = re.compile(r"^[A-Za-z]:")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def trained_dir() -> Path:
    """``home()/models``: where trained models and rerankers are served from by name."""
    return settings.home() / "models"


def looks_like_path(value: str) -> bool:
    """Whether ``value`` reads as a filesystem path (or a backend name carrying one)."""
    prefix, sep, arg = value.partition(":")
    rest = arg if sep and prefix.lower() in PREFIXES else value
    return (
        "/" in value
        or "\\" in value
        or ".." in value
        or "\x00" in value
        or value.strip().startswith("~")
        or rest.strip().startswith(("~", "."))
        or bool(_DRIVE.match(value.strip()))
    )


def allowed_summary() -> str:
    """What a request may name (the second half of every refusal)."""
    return (
        "A request may name catalogue models (GET /lab/models), trained models in "
        f"{trained_dir()} (as st:NAME or words:NAME, rerankers as NAME), indexes and test "
        "collections in embedlab's home by name, and what the server was started with "
        "(embedlab serve --models/--rerankers); never a path. Send texts in the request "
        "instead (a map takes 'texts')."
    )


def _refuse(what: str) -> AccessDeniedError:
    return AccessDeniedError(f"This server does not open {what}. {allowed_summary()}")


@dataclass(frozen=True)
class AccessPolicy:
    """The names a server opens for requests, besides the catalogue and embedlab's home.

    :param models: models the operator started the server with (exact spellings).
    :param rerankers: rerankers the operator allowed (folders or hub ids, exact spellings).
    :param remote: remote backends (``ollama``, ``openai``) whose server the operator named
        (``embedlab serve --ollama URL / --openai URL``): any model on it may be named.
    """

    models: tuple[str, ...] = ()
    rerankers: tuple[str, ...] = ()
    remote: tuple[str, ...] = ()

    def operator_named(self, value: str) -> bool:
        """Whether ``value`` is exactly something the operator started the server with."""
        return value in self.models or value in self.rerankers

    def check_value(self, value: str, field: str) -> None:
        """Refuse a path in request field ``field`` (the operator's own names pass).

        :raises AccessDeniedError: the value looks like a path.
        """
        if not self.operator_named(value) and looks_like_path(value):
            raise _refuse(f"paths: {field}={value[:200]!r} looks like one")

    def model(self, name: str | None) -> str | None:
        """The name to load for a request's ``model`` (``None``: the server's default).

        Catalogue names pass through (the pool says if one is unknown or not installed);
        ``st:NAME`` / ``words:NAME`` / ``static:NAME`` become the trained model folder ``home()/models/NAME``.

        :raises AccessDeniedError: a path, a folder that is not a trained model, or a remote
            backend the operator did not start the server with.
        """
        if name is None or name in self.models:
            return name
        self.check_value(name, "model")
        prefix, sep, arg = name.partition(":")
        if not sep or prefix.lower() not in PREFIXES:
            return name
        if prefix.lower() in LOCAL_PREFIXES:
            folder = self._trained(arg)
            if folder is None:
                raise _refuse(f"{name!r}: there is no trained model {arg!r} in {trained_dir()}")
            return f"{prefix}:{folder}"
        if prefix.lower() in self.remote:  # a model on a server the operator configured
            return name
        raise _refuse(
            f"{name!r} on request (a remote backend); start it with "
            f"'embedlab serve --models {settings.get('model')},{name}' to serve this one"
        )

    def models_list(self, names: Iterable[str]) -> list[str]:
        """:meth:`model` for each of several names."""
        return [m for n in names if (m := self.model(n)) is not None]

    def reranker(self, name: str | None) -> str | None:
        """The folder or id to load for a request's reranker (``None``/empty: none).

        :raises AccessDeniedError: a path, a hub id or a folder the operator did not allow,
            or a name with no trained reranker in ``home()/models``.
        """
        if name is None or not name.strip():
            return None
        if name in self.rerankers:
            return name
        self.check_value(name, "rerank")
        folder = self._trained(name)
        if folder is None:
            allowed = ", ".join(self.rerankers) or "none"
            raise _refuse(
                f"reranker {name!r}: no trained reranker of that name in {trained_dir()}, "
                f"and the server was started with these: {allowed}"
            )
        return str(folder)

    def index(self, name: str) -> str:
        """An index name from a request (the store then says whether it exists)."""
        self.check_value(name, "index")
        return name

    def dataset(self, name: str) -> str:
        """A test-collection name from a request (the collections layer checks the rest)."""
        self.check_value(name, "dataset")
        return name

    def _trained(self, name: str) -> Path | None:
        if not _NAME.match(name) or looks_like_path(name):
            return None
        folder = trained_dir() / name
        return folder if folder.is_dir() and not folder.is_symlink() else None


def check_fields(policy: AccessPolicy, data: Any, query: Mapping[str, str]) -> None:
    """Refuse a path in any naming field of a JSON body's top level or of the query string.

    :raises AccessDeniedError: naming the first field that holds one.
    """
    items: list[tuple[str, Any]] = list(query.items())
    if isinstance(data, dict):
        items += [(k, v) for k, v in data.items() if k in NAMING_FIELDS]
    for key, value in items:
        if key not in NAMING_FIELDS:
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, str):
                policy.check_value(v, key)


def policy_of(request: Any) -> AccessPolicy:
    """The app's policy, from a route's ``Request`` (``request.app.state.policy``)."""
    policy: AccessPolicy = request.app.state.policy
    return policy
