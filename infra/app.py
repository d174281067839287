"""The Starlette application: health and readiness probes now, GraphQL mounted by features."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from okrledger.infra.bootstrap import Runtime, start_runtime
from okrledger.infra.migrations.runner import pending_on
from okrledger.infra.settings import Settings

log = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    """The process is up and serving requests."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """The database answers and every migration is applied; 503 otherwise."""
    runtime: Runtime = request.app.state.runtime
    try:
        async with runtime.database.pool.acquire(timeout=2) as connection:
            pending = await pending_on(cast(asyncpg.Connection, connection))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
        log.warning("not ready: database unreachable", extra={"error": str(error)})
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    if pending:
        return JSONResponse({"status": "unavailable", "pendingMigrations": pending}, 503)
    return JSONResponse({"status": "ready"})


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app; reads settings from the environment when none are given."""
    chosen = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await start_runtime(chosen)
        app.state.runtime = runtime
        log.info("okrledger ready")
        try:
            yield
        finally:
            await runtime.close()
            log.info("okrledger stopped")

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz)],
        lifespan=lifespan,
    )
