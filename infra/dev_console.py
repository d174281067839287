"""A one-page console at /dev/console, served in development mode only.

It calls the API as a single-page app does (bearer token on `fetch`, token in the
WebSocket's `connection_init`) and needs nothing from a CDN, unlike GraphiQL's page.
"""

from __future__ import annotations

from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

DEV_CONSOLE_PATH = "/dev/console"


def dev_console_routes() -> list[Route]:
    """The console's route, for the app to serve while in development mode."""
    page = files("okrledger.infra").joinpath("dev_console.html").read_text(encoding="utf-8")

    async def console(request: Request) -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    return [Route(DEV_CONSOLE_PATH, console)]
