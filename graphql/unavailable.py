"""UNAVAILABLE: a request the server cannot take in time is told to come back, never hung.

`Unavailable` (no database connection came free within OKRLEDGER_POOL_TIMEOUT, or a
serialized change's turn did not come) is an expected answer, not a masked failure: its
error carries `extensions.code: "UNAVAILABLE"` and `retryAfter` (seconds), over HTTP and
WebSocket alike. Over HTTP, `AnswerUnavailable` makes the whole response a 503 with
`Retry-After`, so clients and proxies that never read the body still back off; one raised
outside GraphQL execution (before the operation runs) gets the same answer.
"""

from __future__ import annotations

import math
from contextvars import ContextVar

from graphql import GraphQLError
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from okrledger.services.errors import Unavailable

CODE = Unavailable.code

# The Retry-After seconds of every UNAVAILABLE answer of the HTTP request being served.
_answered: ContextVar[list[int] | None] = ContextVar("okrledger_unavailable", default=None)


def unavailable_in(error: GraphQLError) -> Unavailable | None:
    original = error.original_error
    return original if isinstance(original, Unavailable) else None


def retry_after(error: Unavailable) -> int:
    return max(1, math.ceil(error.retry_after))


def coded(error: GraphQLError, unavailable: Unavailable) -> GraphQLError:
    """The error with its code and Retry-After seconds, noted for the HTTP status."""
    seconds = retry_after(unavailable)
    error.extensions = {**(error.extensions or {}), "code": CODE, "retryAfter": seconds}
    answered = _answered.get()
    if answered is not None:
        answered.append(seconds)
    return error


class AnswerUnavailable:
    """Around the GraphQL endpoint: a response with an UNAVAILABLE error goes as a 503."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered: list[int] = []
        token = _answered.set(answered)
        started = False

        async def send_status(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if answered:
                    message = {**message, "status": 503}
                    headers = MutableHeaders(scope=message)
                    headers["Retry-After"] = str(max(answered))
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except Unavailable as error:
            if started:
                raise
            seconds = retry_after(error)
            extensions = {"code": CODE, "retryAfter": seconds}
            body = {"errors": [{"message": str(error), "extensions": extensions}]}
            response = JSONResponse(body, 503, headers={"Retry-After": str(seconds)})
            await response(scope, receive, send)
        finally:
            _answered.reset(token)
