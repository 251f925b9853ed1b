"""The one JSON shape of every error the server answers (shared by the app and the routes)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import Response


def error_body(kind: str, message: str) -> dict[str, Any]:
    """``{"error": {"type": kind, "message": message}}``."""
    return {"error": {"type": kind, "message": message}}


def json_response(data: Any, status_code: int = 200) -> Response:
    """Serialise ``data`` (plain lists, dicts, numbers) with ``json.dumps`` directly.

    Embedding answers are long lists of floats; this skips FastAPI's per-value encoder,
    which matters when one event loop answers many batched requests.
    """
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(content=body, status_code=status_code, media_type="application/json")
