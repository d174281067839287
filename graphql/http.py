"""The GraphQL endpoint: POST/GET and `graphql-transport-ws` on one path, with our context."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast, overload
from uuid import uuid4

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from okrledger.graphql.body_limit import BodyLimit
from okrledger.graphql.context import Backend, Context, Unauthenticated
from okrledger.graphql.http_request import BadRequest, decoded, request_data
from okrledger.graphql.limits import Limits
from okrledger.graphql.loaders import Loaders
from okrledger.graphql.media_types import GRAPHQL_RESPONSE, JSON, negotiated
from okrledger.graphql.rate_limits import retry_after_of
from okrledger.graphql.response_cache import ReadRequest, ResponseCache
from okrledger.projections.base import Rows
from okrledger.services.identity import Principal

REQUEST_ID_HEADER = "x-request-id"
# Where the request's id is kept in the ASGI scope's state, once chosen.
REQUEST_ID_STATE = "okrledger_request_id"
# "hit" or "miss" on answers the response cache could hold; absent on the others.
CACHE_HEADER = "x-okrledger-cache"
_GIVEN_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# What each method may run over HTTP; subscriptions go over the WebSocket.
HTTP_OPERATIONS = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}

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
    """The id the access log chose for this request, else the caller's X-Request-ID when it is
    a sane token, else a fresh one."""
    chosen = connection.scope.get("state", {}).get(REQUEST_ID_STATE)
    return (
        chosen
        if isinstance(chosen, str)
        else given_request_id(connection.headers.get(REQUEST_ID_HEADER))
    )


def given_request_id(given: str | None) -> str:
    return given if given and _GIVEN_REQUEST_ID.match(given) else uuid4().hex


def bad_request(reason: str, status: int, media_type: str | None) -> Response:
    """A request refused before GraphQL, in the GraphQL error shape; 405 names the methods."""
    return Response(
        json_bytes({"errors": [{"message": reason, "extensions": {"code": "BAD_REQUEST"}}]}),
        status_code=status,
        media_type=_content_type(media_type or JSON),
        headers={"allow": "GET, POST"} if status == 405 else None,
    )


def _content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type == GRAPHQL_RESPONSE else media_type


def json_bytes(data: object) -> bytes:
    """JSON of an answer. An answer that quotes a lone surrogate back (which UTF-8 cannot
    carry) has each one replaced by "?" rather than failing as a whole."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return orjson.dumps(_without_surrogates(data))


def _without_surrogates(data: object) -> object:
    if isinstance(data, str):
        return data.encode("utf-8", "replace").decode("utf-8")
    if isinstance(data, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_without_surrogates(item) for item in data]
    return data


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: the document, its variables or the request was refused as a whole
    (no error has a path). A field error that nulls the root is an execution result."""
    errors: list[GraphQLError] = list(result.errors or ())
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


# The close code of a message over the request size limit: 4000-4999 are the application's,
# and graphql-transport-ws uses 4400, 4401, 4403… after HTTP's statuses: 413 is too large.
MESSAGE_TOO_LARGE = 4413


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages go as text frames: browser clients read no binary ones.

    A message obeys the size limit of an HTTP body (OKRLEDGER_MAX_REQUEST_BYTES): a larger
    one closes the socket with 4413, as the protocol has no operation to answer before a
    message is read whole. Messages are decoded as HTTP bodies are (UTF-8 JSON, nested no
    deeper than MAX_NESTING), and a `subscribe` payload as an HTTP body's operation; one
    that is not closes the socket with the protocol's 4400 ("invalid message").
    """

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        limit = cast(GraphQLApp, self.view).limits.max_body_bytes
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                try:
                    text = await self.ws.receive_text()
                except KeyError as error:
                    raise NonTextMessageReceived from error
                if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
                    await self.close(MESSAGE_TOO_LARGE, f"Message too large: at most {limit} bytes")
                    return
                try:
                    message = decoded(text, "message")
                except BadRequest as error:
                    if ignore_parsing_errors:
                        continue
                    raise NonJsonMessageReceived from error
                if not isinstance(message, dict):  # every message of the protocol is an object
                    raise NonJsonMessageReceived
                if message.get("type") == "subscribe":
                    try:  # the operation obeys what an HTTP body's does
                        request_data(message.get("payload"), "subscribe payload")
                    except BadRequest as error:
                        await self.close(4400, error.reason[:120])
                        return
                yield message
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(json_bytes(message).decode())
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
        """Requests refused before GraphQL (not JSON, batched, no query, a mutation over GET)
        get the JSON error shape of every other refusal, not plain text; the answer is in the
        media type the client's Accept prefers (406 when it accepts none we offer)."""
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        media_type = None
        try:
            media_type = self._media_type(request)
            request.state.media_type = media_type
            response = await super().run(request, context, root_value)
        except HTTPException as error:
            return bad_request(error.reason, error.status_code, media_type)
        except BadRequest as error:
            return bad_request(error.reason, error.status, media_type)
        if media_type == GRAPHQL_RESPONSE and response.media_type == JSON:
            response.headers["content-type"] = _content_type(GRAPHQL_RESPONSE)
            if getattr(request.state, "request_error", False):
                response.status_code = 400
        return response

    def _media_type(self, request: Request) -> str | None:
        adapter = self.request_adapter_class(request)
        if self.should_render_graphql_ide(adapter):
            return None  # GraphiQL's page, or 404 outside development
        media_type = negotiated(request.headers.get("accept"))
        if media_type is None:
            raise BadRequest(
                f"Not acceptable: answers are {GRAPHQL_RESPONSE} or {JSON}", status=406
            )
        return media_type

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if request.method == "GET":
            params = request.query_params
            return request_data(
                {
                    "query": params.get("query"),
                    "operationName": params.get("operationName"),
                    "variables": _json_parameter(params.get("variables"), "variables"),
                    "extensions": _json_parameter(params.get("extensions"), "extensions"),
                }
            )
        content_type, _ = parse_content_type(request.content_type or "")
        if content_type != JSON:
            raise BadRequest(f"Unsupported content type: send {JSON}", status=415)
        return request_data(decoded(await request.get_body()))

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
            return await self._execute(request_adapter.method, context, request_data)
        try:
            key = self.responses.key(read, await self.head(read.tenant_id))
        except TypeError:  # variables JSON cannot carry (a lone surrogate): refused when run
            return await self._execute(request_adapter.method, context, request_data)
        cached = self.responses.get(key)
        if cached is not None:
            sub_response.headers[CACHE_HEADER] = "hit"
            return EncodedResult(data=None, errors=None, encoded=cached)
        result = await self._execute(request_adapter.method, context, request_data)
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

    async def _execute(
        self, method: str, context: Context, request_data: GraphQLRequestData
    ) -> ExecutionResult:
        """Queries over GET, queries and mutations over POST. A mutation over GET is 405
        (GraphQL over HTTP); a subscription is 400: it is served over the WebSocket."""
        try:
            return await self.schema.execute(
                request_data.query,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=HTTP_OPERATIONS.get(method, frozenset()),
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as error:
            raise BadRequest(error.as_http_error_reason()) from None
        except InvalidOperationTypeError as error:
            reason = error.as_http_error_reason(method)
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise BadRequest(
                    "Subscriptions are served over the WebSocket at this path "
                    "(graphql-transport-ws), not over HTTP"
                ) from None
            raise BadRequest(reason, status=405) from None
        except MissingQueryError:
            raise BadRequest("No GraphQL query found in the request") from None

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
        processed = await super().process_result(request, result)
        if is_request_error(result):
            request.state.request_error = True
            if getattr(request.state, "media_type", None) == GRAPHQL_RESPONSE:
                processed.pop("data", None)  # the spec's sign that nothing was executed
        return processed

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        wait = retry_after_of(response_data)  # a spent budget (graphql/rate_limits.py)
        if wait is not None:
            sub_response.status_code = 429
            sub_response.headers["retry-after"] = str(wait)
        return super().create_response(response_data, sub_response)

    def encode_json(self, data: object) -> bytes:
        return json_bytes(data)


def _json_parameter(value: str | list[str] | None, name: str) -> object:
    """A GET parameter holding JSON (`variables`, `extensions`); absent or empty is null."""
    if isinstance(value, str):
        return decoded(value, f"`{name}` parameter") if value else None
    return value
