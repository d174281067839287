"""The GraphQL endpoint: POST/GET and `graphql-transport-ws` on one path, with our context."""

from __future__ import annotations

import re
from collections.abc import Callable
from uuid import uuid4

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from okrledger.graphql.body_limit import BodyLimit
from okrledger.graphql.context import Backend, Context
from okrledger.graphql.limits import Limits
from okrledger.services.identity import Principal

REQUEST_ID_HEADER = "x-request-id"
_GIVEN_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def principal_of(connection: HTTPConnection) -> Principal | None:
    """The caller the authentication middleware verified (`request.user.principal`), if any."""
    user = connection.scope.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    principal = getattr(user, "principal", None)
    return principal if isinstance(principal, Principal) else None


def request_id_of(connection: HTTPConnection) -> str:
    """The caller's X-Request-ID when it is a sane token, else a fresh one."""
    given = connection.headers.get(REQUEST_ID_HEADER, "")
    return given if _GIVEN_REQUEST_ID.match(given) else uuid4().hex


class GraphQLApp(GraphQL[Context, None]):
    """`backend` is called per request, so the app can be built before the server starts."""

    def __init__(
        self,
        schema: BaseSchema,
        *,
        backend: Callable[[], Backend],
        development: bool = False,
        limits: Limits | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if development else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.backend = backend
        self.limits = limits or Limits()
        self._limited = BodyLimit(super().__call__, self.limits.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._limited(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        request_id = request_id_of(request)
        if isinstance(response, Response):
            response.headers[REQUEST_ID_HEADER] = request_id
        backend = self.backend()
        return Context(
            principal=principal_of(request),
            handler=backend.handler,
            request_id=request_id,
            reader=backend.read,
        )
