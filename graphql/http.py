"""The GraphQL endpoint: POST/GET and `graphql-transport-ws` on one path, with our context."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast, overload
from uuid import uuid4

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from okrledger.graphql.body_limit import BodyLimit
from okrledger.graphql.context import Backend, Context, Unauthenticated
from okrledger.graphql.limits import Limits
from okrledger.graphql.loaders import Loaders
from okrledger.graphql.rate_limits import retry_after_of
from okrledger.graphql.response_cache import ReadRequest, ResponseCache
from okrledger.projections.base import Rows
from okrledger.services.identity import Principal

REQUEST_ID_HEADER = "x-request-id"
# "hit" or "miss" on answers the response cache could hold; absent on the others.
CACHE_HEADER = "x-okrledger-cache"
_GIVEN_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# Verifies an Authorization value ("Bearer <token>"); None when the token is not valid.
Authenticate = Callable[[str], Awaitable[Principal | None]]
# The position of a tenant's latest event (0 before its first).
TenantHead = Callable[[str], Awaitable[int]]


@dataclass
class EncodedResult(ExecutionResult):
    """An answer whose `data` is already JSON (from the response cache, or just stored in it)."""

    encoded: bytes = b""


def principal_of(connection: HTTPConnection) -> Principal | None:
    """The caller the authentication middleware verified (`request.user.principal`), if any."""
    user = connection.scope.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    principal = getattr(user, "principal", None)
    return principal if isinstance(principal, Principal) else None


def authorization_in(params: dict[str, Any] | None) -> str | None:
    """The bearer credential of a `connection_init` payload: {"Authorization": "Bearer …"}
    or {"token": "…"}; None when it names none."""
    if not params:
        return None
    for key in ("Authorization", "authorization"):
        value = params.get(key)
        if isinstance(value, str):
            return value
    token = params.get("token")
    return f"Bearer {token}" if isinstance(token, str) else None


def request_id_of(connection: HTTPConnection) -> str:
    """The caller's X-Request-ID when it is a sane token, else a fresh one."""
    given = connection.headers.get(REQUEST_ID_HEADER, "")
    return given if _GIVEN_REQUEST_ID.match(given) else uuid4().hex


def bad_request(error: HTTPException) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": error.reason, "extensions": {"code": "BAD_REQUEST"}}]},
        status_code=error.status_code,
    )


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages go as text frames: browser clients read no binary ones."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class GraphQLApp(GraphQL[Context, None]):
    """`backend` is called per request, so the app can be built before the server starts."""

    websocket_adapter_class = TextFrames

    def __init__(
        self,
        schema: BaseSchema,
        *,
        backend: Callable[[], Backend],
        authenticate: Authenticate | None = None,
        development: bool = False,
        limits: Limits | None = None,
        allowed_origins: Sequence[str] = (),
        responses: ResponseCache | None = None,
        head: TenantHead | None = None,
    ) -> None:
        # Browsers skip CORS on WebSockets; the handshake's Origin is checked against these.
        super().__init__(
            schema,
            graphql_ide="graphiql" if development else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=allowed_origins,
        )
        self.backend = backend
        self.authenticate = authenticate
        self.limits = limits or Limits()
        self._limited = BodyLimit(super().__call__, self.limits.max_body_bytes)
        self.responses = responses if head is not None else None
        self.head = head

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._limited(scope, receive, send)

    @overload
    async def run(
        self, request: Request, context: Context = ..., root_value: None = ...
    ) -> Response: ...

    @overload
    async def run(
        self, request: WebSocket, context: Context = ..., root_value: None = ...
    ) -> WebSocket: ...

    async def run(
        self,
        request: Request | WebSocket,
        context: Context = UNSET,
        root_value: None = UNSET,
    ) -> Response | WebSocket:
        """Requests strawberry refuses before GraphQL (not JSON, batched, no query, a mutation
        over GET) get the JSON error shape of every other refusal, not plain text."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            if isinstance(request, WebSocket):
                raise
            return bad_request(error)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        request_id = request_id_of(request)
        if isinstance(response, Response):
            response.headers[REQUEST_ID_HEADER] = request_id
        backend = self.backend()
        principal = principal_of(request)
        now = self._judged_at()

        def read() -> AbstractAsyncContextManager[Rows]:
            if principal is None:
                raise Unauthenticated()
            return backend.read(principal.tenant_id)

        return Context(
            principal=principal,
            handler=backend.handler,
            request_id=request_id,
            reader=backend.read,
            verify_chain=backend.verify_chain,
            loaders=Loaders(read, now=now),
            follow_readings=backend.kpi_policy,
            follow_corrections=backend.kpi_policy.corrected,
            events=backend.events,
            webhooks=backend.webhooks,
            webhook_reads=backend.webhook_reads,
            now=now,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Browsers cannot set headers on the upgrade, so the token may come in
        `connection_init`; a token that fails verification closes the socket with 4403."""
        authorization = authorization_in(context.connection_params)
        if authorization is None:
            return UnsetType()  # the upgrade's own Authorization header, or anonymous
        principal = None if self.authenticate is None else await self.authenticate(authorization)
        if principal is None:
            raise ConnectionRejectionError()
        context.principal = principal
        return UnsetType()

    def _judged_at(self) -> datetime | None:
        if self.responses is None:
            return None
        return self.responses.judged_at(self.responses.bucket(datetime.now(UTC)))

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        read = self._cacheable(request_data, context)
        if read is None or self.responses is None or self.head is None:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        key = self.responses.key(read, await self.head(read.tenant_id))
        cached = self.responses.get(key)
        if cached is not None:
            sub_response.headers[CACHE_HEADER] = "hit"
            return EncodedResult(data=None, errors=None, encoded=cached)
        result = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        if (
            type(result) is not ExecutionResult
            or result.errors
            or set(result.extensions or ()) - {"cost"}
        ):
            return result
        sub_response.headers[CACHE_HEADER] = "miss"
        encoded = orjson.dumps(process_result(result))  # the whole answer, its cost with it
        self.responses.put(key, encoded)
        return EncodedResult(data=None, errors=None, encoded=encoded)

    def _cacheable(self, request_data: GraphQLRequestData, context: Context) -> ReadRequest | None:
        principal = context.principal
        if self.responses is None or principal is None or context.now is None:
            return None
        query = request_data.query
        if not query or not self.responses.cacheable(query, request_data.operation_name):
            return None
        return ReadRequest(
            tenant_id=principal.tenant_id,
            roles=tuple(sorted(role.value for role in principal.roles)),
            query=query,
            variables=request_data.variables,
            operation_name=request_data.operation_name,
            bucket=self.responses.bucket(context.now),
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if isinstance(result, EncodedResult):
            return cast(GraphQLHTTPResponse, orjson.Fragment(result.encoded))
        return await super().process_result(request, result)

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        wait = retry_after_of(response_data)  # a spent budget (graphql/rate_limits.py)
        if wait is not None:
            sub_response.status_code = 429
            sub_response.headers["retry-after"] = str(wait)
        return super().create_response(response_data, sub_response)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)
