"""What the operator starts the server with: one frozen :class:`ServerConfig`.

``create_app(config=ServerConfig(...))`` takes every option of ``embedlab serve`` in one
value instead of a long parameter list; ``ServerConfig()`` is the safe default (loopback,
no extra hosts or origins, no API key, the limits from the settings table).
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field

from embedlab import settings

__all__ = ["Limits", "ServerConfig", "is_loopback", "new_api_key"]

#: host names that always reach this machine only.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Limits:
    """Request limits; every one answers a 413 or 429 that names it.

    :param max_body_bytes: largest request body (with or without Content-Length).
    :param max_text_chars: longest string anywhere in a JSON request body.
    :param max_batch: most texts one embedding request carries.
    :param max_map_texts: most pasted texts one map request carries.
    :param max_long_jobs: long jobs (map, grid, training, indexing) running at once.
    :param body_timeout_s: seconds a client may take to send its body (408 beyond).
    """

    max_body_bytes: int = 8 * 1024 * 1024
    max_text_chars: int = 100_000
    max_batch: int = 256
    max_map_texts: int = 5000
    max_long_jobs: int = 2
    body_timeout_s: float = 30.0

    @classmethod
    def from_settings(cls) -> Limits:
        """The limits of the settings table (``EMBEDLAB_MAX_*``)."""
        return cls(
            max_body_bytes=int(settings.get("max_body_bytes")),
            max_text_chars=int(settings.get("max_text_chars")),
            max_batch=int(settings.get("max_batch")),
            max_map_texts=int(settings.get("max_map_texts")),
            max_long_jobs=int(settings.get("max_long_jobs")),
        )


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address, brackets allowed) only reaches this machine."""
    bare = host.strip().strip("[]").lower()
    if bare in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


def new_api_key() -> str:
    """A fresh random key, as Jupyter makes its token."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class ServerConfig:
    """The operator's choices for one server.

    :param host: the address it binds (its own name is always an allowed Host).
    :param port: the port it listens on (for the printed URL only).
    :param models: models to load at start, the first being the default; requests may
        name these even when they are not in the catalogue.
    :param rerankers: cross-encoder folders or ids requests may name (besides trained
        ones inside embedlab's home).
    :param allow_hosts: more Host header values to answer (besides the bound address and
        loopback names).
    :param allow_origins: web origins (``https://app.example``) granted CORS and allowed
        to send state-changing requests; ``"*"`` grants every origin.
    :param api_key: the key clients must send (``Authorization: Bearer KEY``); ``None``:
        none needed. Binding beyond loopback without one is refused by :meth:`checked`.
    :param limits: request limits (default: the settings table).
    :param ollama: the Ollama whose chat and embedding models the lab lists and uses
        (``--ollama URL``); ``None``: ``OLLAMA_HOST``, else Ollama's default address.
    :param openai: OpenAI-compatible servers (base URLs, ``--openai URL``) likewise;
        empty: ``OPENAI_BASE_URL`` if set, else none. Requests name models, never URLs.
    """

    host: str = "127.0.0.1"
    port: int = 8765
    models: tuple[str, ...] = ()
    rerankers: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    allow_origins: tuple[str, ...] = ()
    api_key: str | None = None
    limits: Limits = field(default_factory=Limits.from_settings)
    ollama: str | None = None
    openai: tuple[str, ...] = ()

    @property
    def loopback(self) -> bool:
        """Whether the server is reachable from this machine only."""
        return is_loopback(self.host)

    def with_key(self) -> ServerConfig:
        """This config, with a generated API key when it binds beyond loopback without one
        (or the ``api_key`` setting when that is set)."""
        from dataclasses import replace

        key = self.api_key or settings.get("api_key") or None
        if key is None and not self.loopback:
            key = new_api_key()
        return replace(self, api_key=key)

    def url(self) -> str:
        """The address to print at start (with ``?token=`` when a key is needed)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        base = f"http://{host}:{self.port}/"
        return f"{base}?token={self.api_key}" if self.api_key else base
