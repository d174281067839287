"""What every resolver gets: the caller, the command handler, a request id and tenant reads."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from strawberry.exceptions import StrawberryGraphQLError

from okrledger.projections.base import Rows
from okrledger.services.handling import Handler
from okrledger.services.identity import Principal

ReadFactory = Callable[[str], AbstractAsyncContextManager[Rows]]


class Backend(Protocol):
    """What the running server lends the API (infra's Runtime is one)."""

    @property
    def handler(self) -> Handler: ...

    def read(self, tenant_id: str) -> AbstractAsyncContextManager[Rows]:
        """A read-only transaction with the tenant set for Row-Level Security."""
        ...


class Unauthenticated(StrawberryGraphQLError):
    """No verified caller: a top-level error with `extensions.code` UNAUTHENTICATED."""

    def __init__(self, message: str = "Authentication required: send a bearer token") -> None:
        super().__init__(message, extensions={"code": "UNAUTHENTICATED"})


@dataclass(frozen=True)
class Context:
    principal: Principal | None
    handler: Handler
    request_id: str
    reader: ReadFactory

    def caller(self) -> Principal:
        """The verified caller; permission classes have already refused anonymous requests."""
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    def read(self) -> AbstractAsyncContextManager[Rows]:
        """A read-only connection in the caller's tenant: `async with context.read() as rows`."""
        return self.reader(self.caller().tenant_id)
