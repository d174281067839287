"""What every resolver gets: the caller, the command handler, a request id, reads, loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from strawberry.exceptions import StrawberryGraphQLError

from okrledger.projections.base import Rows
from okrledger.projections.event_log import EventLog
from okrledger.projections.webhooks import WebhookReads
from okrledger.services.handling import Handler
from okrledger.services.identity import Principal
from okrledger.services.kpi_links import KPILinkPolicy
from okrledger.services.kpis import FollowCorrection, FollowReadings
from okrledger.services.webhooks import WebhookPorts

if TYPE_CHECKING:
    from okrledger.graphql.loaders import Loaders

ReadFactory = Callable[[str], AbstractAsyncContextManager[Rows]]


class ChainCheck(Protocol):
    """The outcome of checking the tenant's hash chain (infra's `ChainCheck` is one)."""

    @property
    def ok(self) -> bool: ...

    @property
    def checked(self) -> int: ...

    @property
    def last_position(self) -> int | None: ...

    @property
    def broken_at(self) -> int | None: ...

    @property
    def problem(self) -> str | None: ...


ChainVerifier = Callable[[str, int, "int | None"], Awaitable[ChainCheck]]


class Backend(Protocol):
    """What the running server lends the API (infra's Runtime is one)."""

    @property
    def handler(self) -> Handler: ...

    @property
    def kpi_policy(self) -> KPILinkPolicy:
        """Moves the key results linked to a KPI when readings are recorded or corrected."""
        ...

    @property
    def events(self) -> EventLog:
        """The tenant's log as public CloudEvents, paged or followed live."""
        ...

    @property
    def webhooks(self) -> WebhookPorts:
        """What registering a webhook or rotating its secret needs (DNS, secret storage)."""
        ...

    @property
    def webhook_reads(self) -> WebhookReads:
        """The tenant's webhooks and their delivery attempts."""
        ...

    def read(self, tenant_id: str) -> AbstractAsyncContextManager[Rows]:
        """A read-only transaction with the tenant set for Row-Level Security."""
        ...

    async def verify_chain(
        self, tenant_id: str, from_position: int, to_position: int | None
    ) -> ChainCheck:
        """Recompute the tenant's hash chain over the positions given (to the head if None)."""
        ...


class Unauthenticated(StrawberryGraphQLError):
    """No verified caller: a top-level error with `extensions.code` UNAUTHENTICATED."""

    def __init__(self, message: str = "Authentication required: send a bearer token") -> None:
        super().__init__(message, extensions={"code": "UNAUTHENTICATED"})


@dataclass
class Context:
    """One per HTTP request, or per WebSocket connection (whose `connection_init` payload
    lands in `connection_params` and may name the caller: see GraphQLApp.on_ws_connect)."""

    principal: Principal | None
    handler: Handler
    request_id: str
    reader: ReadFactory
    verify_chain: ChainVerifier
    loaders: Loaders
    follow_readings: FollowReadings
    follow_corrections: FollowCorrection
    events: EventLog
    webhooks: WebhookPorts
    webhook_reads: WebhookReads
    connection_params: dict[str, Any] | None = None
    # The moment current reads judge pace at; None: the moment each read runs.
    now: datetime | None = None

    def caller(self) -> Principal:
        """The verified caller; permission classes have already refused anonymous requests."""
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    def read(self) -> AbstractAsyncContextManager[Rows]:
        """A read-only connection in the caller's tenant: `async with context.read() as rows`."""
        return self.reader(self.caller().tenant_id)
