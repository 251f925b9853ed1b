"""Remote embedding servers over HTTP: Ollama (``/api/embed``) and OpenAI-compatible
(``/embeddings``: OpenAI, TEI, vLLM, llama.cpp, LM Studio, embedlab's own server).

Each protocol is one :class:`Protocol` row: how to build the request body and how to read
the vectors back. The model's dimensions are found by embedding a probe text on load. Every
failure becomes a :class:`~embedlab.errors.RemoteModelError` that names the URL and says
what came back (status and body excerpt), or that nothing answered.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedlab.errors import RemoteModelError
from embedlab.models.base import Encoder, ModelInfo

DEFAULT_OLLAMA = "http://127.0.0.1:11434"
DEFAULT_OPENAI = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = 60.0
PROBE_TEXT = "dimension probe"
_EXCERPT = 300


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


def _ollama_vectors(payload: Any) -> list[Any]:
    """``{"embeddings": [[...], ...]}`` -> the list of vectors."""
    if not isinstance(payload, dict) or not isinstance(payload.get("embeddings"), list):
        raise ValueError('expected a JSON object with "embeddings": [[...], ...]')
    return list(payload["embeddings"])


def _openai_vectors(payload: Any) -> list[Any]:
    """``{"data": [{"index": i, "embedding": [...]}, ...]}`` -> vectors in input order."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise ValueError('expected a JSON object with "data": [{"embedding": [...]}, ...]')
    items = payload["data"]
    if not all(isinstance(d, dict) and "embedding" in d for d in items):
        raise ValueError('every item of "data" needs an "embedding"')
    if all("index" in d for d in items):
        items = sorted(items, key=lambda d: d["index"])
    return [d["embedding"] for d in items]


@dataclass(frozen=True)
class Protocol:
    """One HTTP embedding API: where to post, and how to read the answer."""

    name: str
    path: str
    read: Callable[[Any], list[Any]]
    hint: str


PROTOCOLS: dict[str, Protocol] = {
    "ollama": Protocol(
        "ollama", "/api/embed", _ollama_vectors, "start it with 'ollama serve', or set OLLAMA_HOST"
    ),
    "openai": Protocol(
        "openai",
        "/embeddings",
        _openai_vectors,
        "check OPENAI_BASE_URL (it ends in /v1 for most servers)",
    ),
}


class RemoteEncoder(Encoder):
    """An embedding model behind an HTTP API; texts are posted in batches."""

    batch_size = 64

    def __init__(
        self,
        protocol: Protocol,
        model: str,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        import httpx

        self.protocol = protocol
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + protocol.path
        self.client = httpx.Client(timeout=timeout, headers=headers or {})
        try:
            probe = self._post([PROBE_TEXT])[0]
        except RemoteModelError:
            self.client.close()
            raise
        norm = float(np.linalg.norm(probe))
        self.info = ModelInfo(
            name=f"{protocol.name}:{model}",
            dims=int(probe.shape[0]),
            max_tokens=None,
            normalized=abs(norm - 1.0) < 1e-3,
            query_prefix=query_prefix,
            document_prefix=document_prefix,
            weights=f"{self.base_url}#{model}",
            backend=f"http ({protocol.name})",
            extra={"url": self.url},
        )

    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        prefix = self.info.prefix(role)
        items = [prefix + t for t in texts] if prefix else texts
        parts = [
            self._post(items[i : i + self.batch_size])
            for i in range(0, len(items), self.batch_size)
        ]
        return np.concatenate(parts, axis=0)

    def _post(self, texts: list[str]) -> np.ndarray:
        """POST one batch and return its vectors; any failure is a RemoteModelError."""
        import httpx

        body = {"model": self.model, "input": texts}
        try:
            resp = self.client.post(self.url, json=body)
        except httpx.ConnectError as exc:
            raise RemoteModelError(
                f"Could not connect to {self.url} ({exc}): connection refused or host not "
                f"found. Is the server running? ({self.protocol.hint})"
            ) from exc
        except httpx.TimeoutException as exc:
            raise RemoteModelError(
                f"{self.url} did not answer within {self.client.timeout.read}s ({type(exc).__name__}). "
                "Is the server overloaded, or the model still loading? Try again or raise the timeout."
            ) from exc
        except httpx.HTTPError as exc:
            raise RemoteModelError(f"Request to {self.url} failed: {exc}.") from exc
        if resp.status_code >= 400:
            raise RemoteModelError(
                f"{self.url} answered HTTP {resp.status_code} for model {self.model!r}: "
                f"{_excerpt(resp.text)!r}. Check the model name"
                + (" and the API key." if resp.status_code in (401, 403) else ".")
            )
        return self._read(resp, len(texts))

    def _read(self, resp: Any, n: int) -> np.ndarray:
        try:
            vectors = self.protocol.read(resp.json())
            out = np.asarray(vectors, dtype=np.float32)
        except (ValueError, TypeError) as exc:
            raise RemoteModelError(
                f"{self.url} answered HTTP {resp.status_code} in a shape embedlab cannot read "
                f"as {self.protocol.name} embeddings ({exc}): {_excerpt(resp.text)!r}. "
                f"Is {self.base_url} really a {self.protocol.name}-compatible server?"
            ) from exc
        if out.ndim != 2 or out.shape[0] != n or out.shape[1] == 0:
            raise RemoteModelError(
                f"{self.url} sent back vectors of shape {out.shape} for {n} texts: "
                f"{_excerpt(resp.text)!r}. Expected one non-empty vector per text."
            )
        return out

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.client.close()


def ollama_base_url(base_url: str | None = None) -> str:
    """The Ollama base URL: the argument, else ``OLLAMA_HOST``, else the local default.

    ``OLLAMA_HOST`` may be a bare ``host[:port]`` as Ollama itself accepts it.
    """
    raw = base_url or os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA
    if "://" not in raw:
        raw = "http://" + raw
    scheme, _, rest = raw.partition("://")
    host = rest.split("/", 1)[0]
    if ":" not in host.rsplit("]", 1)[-1]:
        rest = rest.replace(host, host + ":11434", 1)
    return f"{scheme}://{rest}".rstrip("/")


def load_ollama(
    model: str,
    base_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    query_prefix: str = "",
    document_prefix: str = "",
    **_: Any,
) -> RemoteEncoder:
    """An Ollama embedding model (``POST {base}/api/embed``), e.g. ``nomic-embed-text``.

    :raises RemoteModelError: the server is unreachable or answers badly.
    """
    return RemoteEncoder(
        PROTOCOLS["ollama"],
        model,
        ollama_base_url(base_url),
        timeout=timeout,
        query_prefix=query_prefix,
        document_prefix=document_prefix,
    )


def load_openai(
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    query_prefix: str = "",
    document_prefix: str = "",
    **_: Any,
) -> RemoteEncoder:
    """An OpenAI-compatible embedding model (``POST {base}/embeddings``).

    The base URL comes from the argument, ``OPENAI_BASE_URL`` or OpenAI's own; the key from
    the argument or ``OPENAI_API_KEY`` (local servers often need none).

    :raises RemoteModelError: the server is unreachable or answers badly.
    """
    base = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_OPENAI
    key = api_key or os.environ.get("OPENAI_API_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return RemoteEncoder(
        PROTOCOLS["openai"],
        model,
        base,
        headers=headers,
        timeout=timeout,
        query_prefix=query_prefix,
        document_prefix=document_prefix,
    )
