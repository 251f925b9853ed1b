"""Pure ASGI middleware that decides whether a request is answered at all.

- :class:`TrustGuard` (outermost): the Host allow-list (against DNS rebinding), the Origin
  check on state-changing requests (against cross-site POSTs), CORS for the origins the
  operator allowed, and the API key (``Authorization: Bearer``, or the ``?token=`` of the
  printed URL, which sets a cookie so the pages work, as in Jupyter).
- :class:`BodyGuard`: reads the whole body before any route runs (so a slow client never
  holds a model), refuses it beyond the size limit with or without Content-Length, refuses
  strings beyond the text limit, and refuses a path in a naming field
  (:func:`embedlab.server.access.check_fields`).

Each refusal is the usual ``{"error": {"type", "message"}}`` JSON naming what to change.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi.responses import JSONResponse, Response

from embedlab.errors import EmbedlabError
from embedlab.server.access import AccessPolicy, check_fields
from embedlab.server.config import ServerConfig, is_loopback
from embedlab.server.responses import error_body

__all__ = ["COOKIE", "BodyGuard", "TrustGuard"]

#: the cookie that carries the API key for the pages (set from ``?token=``).
COOKIE = "embedlab_token"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_WILDCARD = frozenset({"0.0.0.0", "::", ""})


def _error(kind: str, message: str, status: int, headers: dict[str, str] | None = None) -> Any:
    return JSONResponse(error_body(kind, message), status_code=status, headers=headers)


def _headers(scope: Any) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def split_host(value: str) -> str:
    """The host part of a Host header (``[::1]:8765`` -> ``::1``), lower-cased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        return value.partition(":")[0]
    return value


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class TrustGuard:
    """Host allow-list, Origin check, CORS and API key, before anything else runs."""

    def __init__(self, app: Any, config: ServerConfig) -> None:
        self.app = app
        self.config = config
        self.hosts = {split_host(h) for h in config.allow_hosts} | {split_host(config.host)}
        self.origins = {o.rstrip("/").lower() for o in config.allow_origins}

    def host_allowed(self, host_header: str) -> bool:
        """The bound address, loopback names, ``--allow-host`` names; any IP address when
        the server binds every interface (DNS rebinding needs a name, never an address)."""
        host = split_host(host_header)
        if not host:
            return False
        if is_loopback(host) or host in self.hosts:
            return True
        return self.config.host.strip("[]") in _WILDCARD and _is_ip(host)

    def origin_allowed(self, origin: str, host_header: str) -> bool:
        """The server's own origin, or one the operator allowed."""
        origin = origin.rstrip("/").lower()
        if "*" in self.origins or origin in self.origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc == host_header.strip().lower()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        if not self.host_allowed(host):
            message = (
                f"This server does not answer for host {host[:100]!r}: it answers for "
                f"{self.config.host}, localhost, 127.0.0.1 and [::1]. Start it with "
                "'embedlab serve --allow-host NAME' to answer for another name."
            )
            await _error("HostNotAllowed", message, 403)(scope, receive, send)
            return
        origin = headers.get("origin")
        method = scope.get("method", "GET")
        cors = origin is not None and (
            "*" in self.origins or origin.rstrip("/").lower() in self.origins
        )
        refused = origin is not None and not self.origin_allowed(origin, host)
        if refused and (method in STATE_CHANGING or method == "OPTIONS"):
            message = (
                f"Requests from the web origin {str(origin)[:100]!r} are refused: this server "
                "takes them from its own pages only. Start it with "
                "'embedlab serve --allow-origin ORIGIN' to let that site call it."
            )
            await _error("OriginNotAllowed", message, 403)(scope, receive, send)
            return
        if method == "OPTIONS" and cors and "access-control-request-method" in headers:
            await self._preflight(origin or "", headers)(scope, receive, send)
            return
        if self.config.api_key and not await self._authorised(scope, receive, send, headers):
            return
        if cors:
            send = self._with_cors(send, origin or "")
        await self.app(scope, receive, send)

    def _preflight(self, origin: str, headers: dict[str, str]) -> Response:
        asked = headers.get("access-control-request-headers", "authorization, content-type")
        return Response(
            status_code=204,
            headers={
                "access-control-allow-origin": origin,
                "access-control-allow-methods": "GET, POST, OPTIONS",
                "access-control-allow-headers": asked,
                "access-control-max-age": "600",
                "vary": "Origin",
            },
        )

    @staticmethod
    def _with_cors(send: Any, origin: str) -> Any:
        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"access-control-allow-origin", origin.encode("latin-1")),
                         (b"vary", b"Origin")]  # fmt: skip
                message = dict(message, headers=[*message.get("headers", []), *extra])
            await send(message)

        return wrapped

    async def _authorised(
        self, scope: Any, receive: Any, send: Any, headers: dict[str, str]
    ) -> bool:
        """Whether the request carries the key; answers 401 (or the cookie redirect) if not."""
        key = self.config.api_key or ""
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and _same(auth[7:].strip(), key):
            return True
        cookies = dict(
            part.strip().split("=", 1)
            for part in headers.get("cookie", "").split(";")
            if "=" in part
        )
        if _same(cookies.get(COOKIE, ""), key):
            return True
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        token = next((v for k, v in query if k == "token"), "")
        if _same(token, key):
            if scope.get("method") == "GET":  # the printed URL: set the cookie, drop the token
                rest = urlencode([(k, v) for k, v in query if k != "token"])
                target = scope.get("path", "/") + (f"?{rest}" if rest else "")
                cookie = f"{COOKIE}={key}; Path=/; HttpOnly; SameSite=Strict"
                redirect = Response(
                    status_code=303, headers={"location": target, "set-cookie": cookie}
                )
                await redirect(scope, receive, send)
                return False
            return True
        message = (
            "This server needs its API key: send 'Authorization: Bearer KEY' (the openai "
            "client's api_key), or open the URL printed at start (it carries ?token=KEY)."
        )
        response = _error("Unauthorized", message, 401, {"www-authenticate": "Bearer"})
        await response(scope, receive, send)
        return False


def _same(given: str, key: str) -> bool:
    return bool(given) and secrets.compare_digest(given.encode(), key.encode())


class BodyGuard:
    """Read the body whole, within the limits, and refuse paths in naming fields."""

    def __init__(self, app: Any, config: ServerConfig, policy: AccessPolicy) -> None:
        self.app = app
        self.limits = config.limits
        self.policy = policy

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body, complete = await asyncio.wait_for(
                self._read(scope, receive), self.limits.body_timeout_s
            )
            self._check(scope, body)
        except TimeoutError:
            message = (
                f"The request body did not arrive within {self.limits.body_timeout_s:g} s: "
                "send it at once."
            )
            await _error("RequestTimeout", message, 408)(scope, receive, send)
            return
        except _TooLarge as exc:
            await _error("PayloadTooLarge", str(exc), 413)(scope, receive, send)
            return
        except EmbedlabError as exc:
            await _error(type(exc).__name__, str(exc), exc.http_status)(scope, receive, send)
            return
        if complete:  # the whole body arrived (else the client left: nobody to answer)
            await self.app(scope, _replay(body, receive), send)

    async def _read(self, scope: Any, receive: Any) -> tuple[bytes, bool]:
        limit = self.limits.max_body_bytes
        length = _headers(scope).get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise _too_large(f"The request body has {int(length)} bytes", limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: let the app see it
                return b"".join(chunks), False
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(f"The request body has more than {limit} bytes", limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), True

    def _check(self, scope: Any, body: bytes) -> None:
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        data: Any = None
        if body[:1] in (b"{", b"[") or body.lstrip()[:1] in (b"{", b"["):
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):
                data = None  # the app answers malformed JSON itself
        check_fields(self.policy, data, query)
        _check_text_lengths(data, self.limits.max_text_chars)


class _TooLarge(EmbedlabError):
    http_status = 413


def _too_large(what: str, limit: int) -> EmbedlabError:
    return _TooLarge(
        f"{what}; the limit is {limit} (setting EMBEDLAB_MAX_BODY_BYTES). "
        "Send fewer or shorter texts per request."
    )


def _check_text_lengths(data: Any, limit: int) -> None:
    """Refuse any string longer than ``limit`` characters anywhere in ``data``."""
    from embedlab.errors import TextTooLongError

    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) > limit:
                raise TextTooLongError(
                    f"A text in the request has {len(item)} characters; the limit is {limit} "
                    "(setting EMBEDLAB_MAX_TEXT_CHARS). Split it into shorter texts."
                )
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _replay(body: bytes, receive: Any) -> Any:
    """A ``receive`` that hands the app the body read already, then the client's messages."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
