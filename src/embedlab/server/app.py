"""The FastAPI app factory: error handling, static pages, plotly.js, and the route modules.

Every :class:`~embedlab.errors.EmbedlabError` becomes ``{"error": {"type", "message"}}``
with the error's ``http_status``; malformed JSON is a 400, a body of the wrong shape a 422,
both in the same JSON shape with a message that names the field.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from embedlab.errors import EmbedlabError, ModelNotInstalledError
from embedlab.server.access import AccessPolicy
from embedlab.server.chat import remote_model_options
from embedlab.server.config import ServerConfig
from embedlab.server.guard import BodyGuard, TrustGuard
from embedlab.server.limits import JobSlots
from embedlab.server.models import ModelPool
from embedlab.server.responses import error_body
from embedlab.server.routes import ROUTER_MODULES

__all__ = ["STATIC_DIR", "ServerConfig", "create_app", "error_body", "plotly_js_path"]

log = logging.getLogger("embedlab.server")

STATIC_DIR = Path(__file__).resolve().parent / "static"


def plotly_js_path() -> Path:
    """plotly.min.js from the installed ``plotly`` package (no CDN, no vendored copy)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalledError("The 'plotly' package is not installed: pip install plotly")
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    if not path.exists():
        raise ModelNotInstalledError(f"plotly.min.js is missing at {path}: reinstall plotly.")
    return path


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (detail.get("ctx") or {}).get("error", "not valid JSON")
        return (
            400,
            "MalformedJSON",
            f"The request body is not valid JSON ({reason}). Send a JSON object.",
        )
    by_field: dict[str, list[str]] = {}
    for e in errors:
        # drop the union-member steps pydantic adds ("str", "list[any]") from the location
        loc = [str(p) for p in e.get("loc", ()) if p != "body" and not _is_type_step(p)]
        msgs = by_field.setdefault(".".join(loc) or "body", [])
        msg = str(e.get("msg", "invalid"))
        if msg not in msgs:
            msgs.append(msg)
    parts = [f"{k}: {' or '.join(v)}" for k, v in list(by_field.items())[:5]]
    return 422, "ValidationError", "Invalid request: " + "; ".join(parts) + "."


def _is_type_step(step: object) -> bool:
    return isinstance(step, str) and (step in {"str", "int", "float", "bool"} or "[" in step)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EmbedlabError)
    async def _embedlab_error(_: Request, exc: EmbedlabError) -> JSONResponse:
        return JSONResponse(error_body(type(exc).__name__, str(exc)), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        status, kind, message = _validation_message(exc)
        return JSONResponse(error_body(kind, message), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"Nothing at {request.url.path}. See /docs for the API and / for the lab."
        return JSONResponse(error_body("HTTPError", message), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the traceback goes to the server's log, never to the client
        where = f"{request.method} {request.url.path}"
        log.error("unexpected error answering %s", where, exc_info=exc)
        message = (
            f"Something went wrong answering {where}; the server's log has the details. "
            "This is a bug; please report it."
        )
        return JSONResponse(error_body("InternalError", message), status_code=500)


def swagger_ui_path() -> Path | None:
    """Swagger UI's files from the ``swagger-ui-bundle`` package, so ``/docs`` needs no CDN;
    ``None`` when it is not installed (``/docs`` then loads Swagger UI from its CDN)."""
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


def _install_offline_docs(app: FastAPI, folder: Path) -> None:
    from fastapi.openapi.docs import get_swagger_ui_html

    app.mount("/docs-assets", StaticFiles(directory=folder), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Any:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="embedlab API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


class JsonBody:
    """Pure ASGI middleware: POST bodies to the compatible APIs (``/api/``, ``/v1/``) are read
    as JSON whatever their Content-Type, as Ollama does (``curl -d '{...}'`` sends a form
    type)."""

    PREFIXES = (b"/api/", b"/v1/")

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST":
            path = scope.get("raw_path") or scope.get("path", "").encode()
            if path.startswith(self.PREFIXES):
                headers = [(k, v) for k, v in scope.get("headers") or [] if k != b"content-type"]
                scope = dict(scope, headers=[*headers, (b"content-type", b"application/json")])
        await self.app(scope, receive, send)


def create_app(
    models: list[str] | None = None,
    *,
    batching: bool = True,
    config: ServerConfig | None = None,
) -> FastAPI:
    """Build the web lab.

    :param models: models to load at start, the first being the default for requests that
        name none; others load on first use. ``None``: ``config.models``, else the
        ``model`` setting.
    :param batching: merge concurrent requests per model (off only to measure its gain).
    :param config: the operator's options (hosts, origins, API key, limits); default:
        loopback only, no key. A config that binds beyond loopback without a key gets a
        generated one (read it back from ``app.state.config.api_key``).
    :return: the FastAPI app; ``app.state.pool`` is its :class:`ModelPool`,
        ``app.state.policy`` its :class:`~embedlab.server.access.AccessPolicy`.
    """
    config = config or ServerConfig()
    names = [m.strip() for m in models or config.models if m.strip()]
    config = replace(config, models=tuple(names))
    if not config.loopback and not config.api_key:
        config = config.with_key()
    pool = ModelPool(
        names[0] if names else None,
        names,
        batching=batching,
        max_batch=config.limits.max_batch,
    )
    pool.remote_options = remote_model_options(config)  # --ollama / --openai embedding models
    pool.policy = AccessPolicy(
        tuple(pool.preload), config.rerankers, remote=tuple(pool.remote_options)
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool.start()  # loads in worker threads; the loop keeps serving meanwhile
        yield

    swagger = swagger_ui_path()
    app = FastAPI(
        docs_url=None if swagger else "/docs",
        redoc_url=None,  # ReDoc loads from a CDN (blank offline) and no package ships it
        title="embedlab",
        description="A local lab for text embeddings: the lab's JSON API, plus OpenAI- and "
        "Ollama-compatible embedding endpoints.",
        lifespan=lifespan,
    )
    app.state.pool = pool
    app.state.policy = pool.policy
    app.state.config = config
    app.state.jobs = JobSlots(config.limits.max_long_jobs)
    _install_error_handlers(app)
    app.add_middleware(JsonBody)
    app.add_middleware(BodyGuard, config=config, policy=pool.policy)  # the body, read whole
    app.add_middleware(TrustGuard, config=config)  # outermost: host, origin, API key

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    if swagger:
        _install_offline_docs(app, swagger)
        # the bundled Swagger UI (4.x) renders OpenAPI 3.0 only: "Unable to render" on 3.1
        app.openapi_version = "3.0.2"

    @app.get("/static/plotly.min.js", include_in_schema=False)
    async def plotly_js() -> FileResponse:
        return FileResponse(plotly_js_path(), media_type="application/javascript")

    for name in ROUTER_MODULES:
        module = importlib.import_module(f"embedlab.server.routes.{name}")
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
