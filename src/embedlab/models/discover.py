"""What model servers offer, and which rerankers are saved locally.

:func:`probe_server` lists an Ollama (``GET /api/tags``) or an OpenAI-compatible server
(``GET /models``) and sorts its models into chat and embedding ones; :func:`list_rerankers`
names the cross-encoders saved in a folder (embedlab's trained models).

A probe never raises for a server that is down or answers badly: the listing says so
(``up=False`` with the reason), so one dead server never breaks a page that lists several.
Neither protocol says plainly what a model is for; the rule here: a name with ``embed`` in
it, or an Ollama model of a BERT family, embeds; every other model chats.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from embedlab.models.remote import ollama_base_url

__all__ = [
    "PROTOCOL_PATHS",
    "RemoteListing",
    "RemoteModelEntry",
    "list_rerankers",
    "rerankers_note",
    "model_kind",
    "probe_server",
]

#: where each protocol lists its models (relative to its base URL).
PROTOCOL_PATHS: dict[str, str] = {"ollama": "/api/tags", "openai": "/models"}
#: Ollama model families that only embed.
EMBEDDING_FAMILIES = frozenset({"bert", "nomic-bert", "embedlab"})
#: seconds a probe waits: a page listing servers must not hang on a dead one.
PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class RemoteModelEntry:
    """One model a server offers, named as embedlab names it (``ollama:llama3.2``)."""

    name: str
    model: str
    kind: str  # "chat" or "embedding"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return asdict(self)


@dataclass(frozen=True)
class RemoteListing:
    """One server's state: up with its models, or down with what went wrong."""

    protocol: str
    url: str
    up: bool
    models: list[RemoteModelEntry] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (models as dicts)."""
        return {
            "protocol": self.protocol,
            "url": self.url,
            "up": self.up,
            "error": self.error,
            "models": [m.to_dict() for m in self.models],
        }


def model_kind(model: str, family: str = "") -> str:
    """``"embedding"`` for names with ``embed`` or BERT families, else ``"chat"``."""
    if "embed" in model.lower() or family.lower() in EMBEDDING_FAMILIES:
        return "embedding"
    return "chat"


def _ollama_models(payload: Any) -> list[RemoteModelEntry]:
    rows = payload.get("models") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise ValueError('expected {"models": [...]}')
    out = []
    for row in rows:
        name = str(row.get("model") or row.get("name") or "")
        family = str((row.get("details") or {}).get("family") or "")
        if name:
            out.append(RemoteModelEntry(f"ollama:{name}", name, model_kind(name, family)))
    return out


def _openai_models(payload: Any) -> list[RemoteModelEntry]:
    rows = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise ValueError('expected {"data": [{"id": ...}, ...]}')
    out = []
    for row in rows:
        name = str(row.get("id") or "")
        kind = str(row.get("kind") or "") or model_kind(name)  # embedlab's server says it
        if name:
            out.append(RemoteModelEntry(f"openai:{name}", name, kind))
    return out


_READERS = {"ollama": _ollama_models, "openai": _openai_models}


def probe_server(
    protocol: str, base_url: str, *, api_key: str | None = None, timeout: float = PROBE_TIMEOUT_S
) -> RemoteListing:
    """List the models of the server at ``base_url`` speaking ``protocol``.

    :param protocol: ``"ollama"`` or ``"openai"``.
    :param base_url: Ollama's root (``http://127.0.0.1:11434``) or an OpenAI base URL
        (ending in ``/v1`` for most servers).
    :return: the listing; ``up=False`` and ``error`` (what came back, or that nothing
        answered) when the server cannot be listed.
    :raises KeyError: for an unknown protocol (a programming error, not a server's).
    """
    import httpx

    read = _READERS[protocol]
    base = ollama_base_url(base_url) if protocol == "ollama" else base_url.rstrip("/")
    url = base + PROTOCOL_PATHS[protocol]
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        resp = httpx.get(url, timeout=timeout, headers=headers)
    except httpx.HTTPError as exc:
        reason = f"nothing answered at {url} ({type(exc).__name__}: {exc or 'no detail'})"
        return RemoteListing(protocol, base, False, error=reason)
    if resp.status_code >= 400:
        text = " ".join(resp.text.split())[:200]
        return RemoteListing(
            protocol, base, False, error=f"{url} answered HTTP {resp.status_code}: {text!r}"
        )
    try:
        models = read(resp.json())
    except (ValueError, TypeError, AttributeError) as exc:
        text = " ".join(resp.text.split())[:200]
        return RemoteListing(
            protocol,
            base,
            False,
            error=f"{url} answered in a shape not {protocol}'s ({exc}): {text!r}",
        )
    return RemoteListing(protocol, base, True, models)


def rerankers_note(names: list[str], folder: Path) -> str | None:
    """What a page says when no reranker can be used on this machine (``None`` when some can)."""
    if names:
        return None
    return (
        f"No reranker on this machine: none trained in {folder}, and the server was started "
        f"with none. Train one on an index with 'embedlab train reranker --from-index INDEX "
        f"--out {folder / 'NAME'}', then reload this page."
    )


def list_rerankers(folder: Path) -> list[str]:
    """Names of the cross-encoders saved in ``folder`` (embedlab's trained models): the
    sub-folders whose ``config.json`` declares a sequence-classification architecture."""
    if not folder.is_dir():
        return []
    names = []
    for sub in sorted(folder.iterdir()):
        config = sub / "config.json"
        if sub.is_symlink() or not config.is_file():
            continue
        try:
            archs = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
        except (OSError, ValueError, AttributeError):
            continue
        if any(str(a).endswith("ForSequenceClassification") for a in archs):
            names.append(sub.name)
    return names
