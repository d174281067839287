"""The access log: one JSON line per GraphQL request over HTTP, on logger `okrledger.access`.

The middleware times the request and sees the HTTP status and the X-Request-ID answered; the
observer, called by the GraphQL extension, fills in what only the operation knows (its name,
type, tenant and errors). They meet in a context variable set for the request's duration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from okrledger.graphql.http import REQUEST_ID_HEADER, REQUEST_ID_STATE, given_request_id
from okrledger.graphql.observe import Operation

log = logging.getLogger("okrledger.access")

_current: ContextVar[Operation | None] = ContextVar("okrledger_access_operation", default=None)


class AccessLogObserver:
    """Hands the GraphQL extension the request's operation record to fill in."""

    @contextmanager
    def observe(self) -> Iterator[Operation]:
        yield _current.get() or Operation()


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        operation = Operation()
        # Chosen here, so answers made before GraphQL runs (401, 413, 400) carry it too.
        given = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = given_request_id(given)
        scope.setdefault("state", {})[REQUEST_ID_STATE] = request_id
        answered: dict[str, object] = {"status": 500, "request_id": request_id}

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
                headers = list(message.get("headers", []))
                named = [value for name, value in headers if name.lower() == b"x-request-id"]
                if named:
                    answered["request_id"] = named[0].decode("latin-1")
                else:
                    headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        token = _current.set(operation)
        began = time.perf_counter()
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            _current.reset(token)
            log.info(
                "graphql request",
                extra={
                    "request_id": answered["request_id"],
                    "method": scope["method"],
                    "status": answered["status"],
                    "tenant": operation.tenant_id,
                    "operation": operation.name,
                    "operation_type": operation.type,
                    "errors": operation.errors,
                    "duration_ms": round((time.perf_counter() - began) * 1000, 3),
                },
            )
