"""The API docs render offline in a real Chromium (issue 15 #2): Swagger UI from the
installed swagger-ui-bundle (4.x reads OpenAPI 3.0, so the app serves 3.0.2), every request
outside 127.0.0.1 refused; /redoc (a CDN script) is not served and says where the docs are."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_the_api_offline(page: Any, live_server: str) -> None:
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(live_server + "/docs")
    page.wait_for_selector(".opblock", timeout=30_000)  # one block per operation
    assert "Unable to render" not in page.content()
    assert page.locator(".opblock").count() > 10
    assert outside == []
    reply = page.request.get(live_server + "/redoc")
    assert reply.status == 404 and "/docs" in reply.text()
