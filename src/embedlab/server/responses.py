"""The one JSON shape of every error the server answers (shared by the app and the routes)."""

from __future__ import annotations

from typing import Any


def error_body(kind: str, message: str) -> dict[str, Any]:
    """``{"error": {"type": kind, "message": message}}``."""
    return {"error": {"type": kind, "message": message}}
