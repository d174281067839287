"""The Starlette application: GraphQL at /graphql, health and readiness probes."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import cast

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from okrledger.graphql.context import Backend
from okrledger.graphql.http import REQUEST_ID_HEADER, GraphQLApp
from okrledger.graphql.limits import Limits
from okrledger.graphql.rate_limits import Allowances, Budgets
from okrledger.graphql.response_cache import ResponseCache
from okrledger.graphql.schema import build_schema
from okrledger.graphql.unavailable import AnswerUnavailable
from okrledger.infra.auth import (
    BearerTokenBackend,
    build_auth,
    development_issuer_routes,
    unauthenticated_response,
    verify_authorization,
)
from okrledger.infra.bootstrap import Runtime, start_runtime, start_webhook_delivery
from okrledger.infra.dev_console import dev_console_routes
from okrledger.infra.migrations.runner import pending_on
from okrledger.infra.observability import Observability
from okrledger.infra.rate_limit import rate_limit_storage
from okrledger.infra.settings import Settings
from okrledger.infra.tenant_heads import head_position
from okrledger.infra.tokens import InvalidToken, TokenVerifier
from okrledger.services.identity import Principal

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


def websocket_authenticator(
    verifier: TokenVerifier,
) -> Callable[[str], Awaitable[Principal | None]]:
    """The token of a `connection_init` payload, checked exactly as an HTTP header is."""

    async def authenticate(authorization: str) -> Principal | None:
        try:
            return await verify_authorization(verifier, authorization)
        except InvalidToken as error:
            log.info("websocket token refused", extra={"reason": error.reason})
            return None

    return authenticate


def budgets_of(settings: Settings) -> Budgets | None:
    """The callers' rate-limit budgets, charged in the GraphQL layer (None: all off)."""
    allowances = Allowances(
        tenant_mutations=settings.tenant_mutations_per_minute,
        token_mutations=settings.token_mutations_per_minute,
        tenant_query_cost=settings.tenant_query_cost_per_minute,
    )
    if not (
        allowances.tenant_mutations or allowances.token_mutations or allowances.tenant_query_cost
    ):
        return None
    return Budgets(rate_limit_storage(settings.rate_limit_storage), allowances)


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app; reads settings from the environment when none are given.

    Bearer tokens are verified against OIDC_ISSUER/JWKS_URL, or, with neither set, against
    the development issuer whose key lives in the data directory (and whose discovery
    document and JWKS the app then serves).
    """
    chosen = settings or Settings()
    http = httpx.AsyncClient(timeout=5)
    auth = build_auth(chosen, http)
    observability = Observability.of(chosen)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await start_runtime(chosen)
        await start_webhook_delivery(runtime)
        app.state.runtime = runtime
        observability.started(runtime)
        app.state.database = runtime.database
        # What start-up made (modules, the schema, the pool) lives as long as the process:
        # kept out of the cycle collector's full passes, which would walk it every time.
        gc.collect()
        gc.freeze()
        log.info("okrledger ready", extra={"development_issuer": bool(auth.development_issuer)})
        try:
            yield
        finally:
            await observability.close()
            await runtime.close()
            await http.aclose()
            log.info("okrledger stopped")

    def backend() -> Backend:
        runtime: Runtime = app.state.runtime
        return runtime

    limits = Limits(
        max_depth=chosen.graphql_max_depth,
        max_tokens=chosen.graphql_max_tokens,
        max_aliases=chosen.graphql_max_aliases,
        max_body_bytes=chosen.max_request_bytes,
        max_cost=chosen.graphql_max_cost,
        max_response_bytes=chosen.max_response_bytes,
    )

    async def head(tenant_id: str) -> int:
        return await head_position(app.state.database, tenant_id)

    responses = (
        ResponseCache(chosen.response_cache_bytes, chosen.pace_resolution_seconds)
        if chosen.response_cache_bytes
        else None
    )
    graphql = GraphQLApp(
        build_schema(limits, observability.observers, budgets_of(chosen)),
        backend=backend,
        authenticate=websocket_authenticator(auth.verifier),
        development=chosen.development,
        limits=limits,
        allowed_origins=chosen.cors_origins,
        responses=responses,
        head=head,
    )
    middleware = observability.middleware(chosen)
    if chosen.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=chosen.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", REQUEST_ID_HEADER],
                expose_headers=[REQUEST_ID_HEADER],
                max_age=600,
            )
        )
    middleware.append(
        Middleware(
            AuthenticationMiddleware,
            backend=BearerTokenBackend(auth.verifier),
            on_error=unauthenticated_response,
        )
    )
    issuer_routes = (
        development_issuer_routes(auth.development_issuer) if auth.development_issuer else []
    )
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", AnswerUnavailable(graphql)),
            WebSocketRoute("/graphql", graphql),
            *issuer_routes,
            *(dev_console_routes() if chosen.development else []),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    return app
