"""Serving /metrics and counting every HTTP response; reading the database's totals.

The middleware sits outside authentication: a scraper's token is not a user's JWT, and
401s the authentication middleware answers are counted like any other response.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping, Sequence

import asyncpg
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from okrledger.infra.metrics import DatabaseState, Metrics, PoolUse, ProjectionLag

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
_ENDPOINTS = frozenset({"/graphql", "/healthz", "/readyz", METRICS_PATH})
_METHODS = frozenset({"GET", "POST", "OPTIONS", "HEAD"})

# The pools whose use is reported, by name; empty until the server has started.
Pools = Callable[[], Mapping[str, asyncpg.Pool]]


def endpoint_of(path: str) -> str:
    if path in _ENDPOINTS:
        return path
    return "/.well-known" if path.startswith("/.well-known/") else "other"


def pool_use(pool: asyncpg.Pool) -> PoolUse:
    size, idle = pool.get_size(), pool.get_idle_size()
    return {"open": size, "idle": idle, "in_use": size - idle, "max": pool.get_max_size()}


async def database_state(pool: asyncpg.Pool, projections: Sequence[str]) -> DatabaseState:
    """Projection lag and webhook backlog over all tenants, through two SECURITY DEFINER
    functions that return totals only."""
    try:
        async with pool.acquire(timeout=2) as connection:
            lag = await connection.fetch(
                "SELECT * FROM projection_lag($1::text[])", list(projections), timeout=5
            )
            backlog = await connection.fetchrow("SELECT * FROM webhook_backlog()", timeout=5)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
        log.warning("metrics: database unreadable", extra={"error": str(error)})
        return DatabaseState(answered=False)
    return DatabaseState(
        projection_lag=[
            ProjectionLag(r["projection"], r["events_behind"], r["tenants_behind"]) for r in lag
        ],
        webhook_backlog=dict(backlog) if backlog else {},
    )


class MetricsMiddleware:
    """Counts each HTTP response; answers GET /metrics itself when `serve` is on (with a
    bearer `token` when one is set)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        pools: Pools,
        projections: Sequence[str],
        serve: bool = True,
        token: str | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.pools = pools
        self.projections = list(projections)
        self.serve = serve
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        method = scope["method"] if scope["method"] in _METHODS else "other"
        try:
            if self.serve and scope["path"] == METRICS_PATH:
                response = await self._scrape(Headers(scope=scope))
                await response(scope, receive, counting)
            else:
                await self.app(scope, receive, counting)
        finally:
            self.metrics.answered(method, endpoint_of(scope["path"]), status)
            self._record_pools()

    async def _scrape(self, headers: Headers) -> Response:
        if self.token is not None:
            given = headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                return PlainTextResponse(
                    "metrics need the scrape token", 401, {"WWW-Authenticate": "Bearer"}
                )
        pools = self.pools()
        requests = pools.get("requests")
        state = (
            DatabaseState(answered=False)
            if requests is None
            else await database_state(requests, self.projections)
        )
        self._record_pools()
        return Response(self.metrics.exposition(state), media_type=CONTENT_TYPE_LATEST)

    def _record_pools(self) -> None:
        self.metrics.pools({name: pool_use(pool) for name, pool in self.pools().items()})
