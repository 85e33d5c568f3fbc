"""The web client's pages and static files, served by every node (no build step)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from floor.transport import health

WEB_CLIENT = Path(__file__).resolve().parent.parent.parent / "web_client"
PAGES = ("chair", "join", "display")


def _page(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        return FileResponse(WEB_CLIENT / f"{name}.html", headers={"Cache-Control": "no-cache"})

    return page


def routes() -> list[BaseRoute]:
    """The health routes, the pages, and /static (when the web client is present)."""
    found: list[BaseRoute] = [*health.routes()]
    found.extend(Route(f"/{name}", _page(name)) for name in PAGES)
    if WEB_CLIENT.is_dir():
        found.append(Mount("/static", StaticFiles(directory=WEB_CLIENT), name="static"))
    return found
