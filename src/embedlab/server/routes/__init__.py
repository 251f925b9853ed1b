"""Route modules of the web lab.

Each name in :data:`ROUTER_MODULES` is a module under ``embedlab.server.routes`` exposing
``router: fastapi.APIRouter``; :func:`embedlab.server.app.create_app` includes them in order.
A route gets the shared batching model pool with ``embedlab.server.models.get_pool(request)``
and answers errors by raising an :class:`embedlab.errors.EmbedlabError` (the app turns it into
``{"error": {"type": ..., "message": ...}}`` with the error's ``http_status``).
Figures: return ``lab.fig_json(fig)`` (``json.loads(fig.to_json())``); the page calls ``Plotly.newPlot``.
"""

from __future__ import annotations

#: route modules, included in this order (append yours: one line).
ROUTER_MODULES: tuple[str, ...] = (
    "meta",
    "openai_compat",
    "ollama_compat",
    "lab",
    "lab_analogy",
    "maps",
    "train",
    "evaluate",
    "search",
    "ollama_chat",
    "openai_chat",
    "ask",
    "connect",
    "static_lesson",
    "lesson_b",
    "word_lessons",
    "matryoshka_lesson",
    "chooser",
    "jobs",
    "index_page",
)
