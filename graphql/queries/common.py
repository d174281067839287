"""What every query shares: refusals as top-level errors, the as-of input, page sizes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import strawberry
from graphql import GraphQLError

from okrledger.domain.errors import DomainError
from okrledger.graphql.errors import field_name
from okrledger.projections.pages import MAX_PAGE, AsOf

PAGE_SIZE = strawberry.argument(description=f"How many items, 1 to {MAX_PAGE}.")
AFTER = strawberry.argument(description="The `endCursor` of the page before.")
DEFAULT_PAGE = 50


class QueryRefused(GraphQLError):
    """A read was asked wrongly (a bad cursor, page size or moment): `extensions.code` says how."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(
            error.message,
            extensions={"code": "VALIDATION", "field": field_name(error.field)},
        )


@contextmanager
def refusals() -> Iterator[None]:
    """Domain refusals of a read reach the client as `QueryRefused`, never masked."""
    try:
        yield
    except DomainError as error:
        raise QueryRefused(error) from None


@strawberry.input(
    one_of=True, description="A past moment to read at: a recorded time or a tenant log position."
)
class AsOfInput:
    time: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="With a time zone, e.g. 2026-03-31T23:59:59Z."
    )
    position: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="A tenant log position, e.g. a mutation's `position`.",
    )


def moment_of(given: AsOfInput | None) -> AsOf | None:
    if given is None:
        return None
    with refusals():
        if given.position is not None and given.position is not strawberry.UNSET:
            return AsOf(position=given.position)
        if given.time is not None and given.time is not strawberry.UNSET:
            return AsOf(time=given.time)
        return AsOf()
