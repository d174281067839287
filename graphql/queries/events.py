"""The integrators' read of a tenant's log: a page of public events in position order."""

from __future__ import annotations

from collections.abc import Collection

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from okrledger.domain.errors import DomainError
from okrledger.graphql.context import Context
from okrledger.graphql.permissions import CanReadEvents
from okrledger.graphql.types.event import CloudEvent
from okrledger.projections.public_events import asked_types

MAX_PAGE = 1000


class BadEventArguments(GraphQLError):
    """A bad argument of the event log: `extensions.code` VALIDATION, `field` names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, extensions={"code": "VALIDATION", "field": field})


@strawberry.type(description="A page of the tenant's log.")
class EventPage:
    events: list[CloudEvent]
    last_position: int = strawberry.field(
        description="Ask again with afterPosition set to this for the next page."
    )
    has_more: bool = strawberry.field(description="More events follow this page now.")


def checked_types(types: list[str] | None) -> Collection[str] | None:
    """Unknown type names are refused, not silently matched against nothing; families
    (`okr.objective.*`) stand for every type under them (domain/event_types.py)."""
    try:
        return asked_types(types, field="types")
    except DomainError as error:
        raise BadEventArguments(error.message, "types") from None


def checked_position(after_position: int) -> int:
    if after_position < 0:
        raise BadEventArguments("afterPosition cannot be negative", "afterPosition")
    return after_position


@strawberry.type
class EventQueries:
    @strawberry.field(
        description="The tenant's events after `afterPosition`, oldest first, as CloudEvents.",
        permission_classes=[CanReadEvents],
    )
    async def events(
        self,
        info: Info[Context, None],
        after_position: int = 0,
        types: list[str] | None = None,
        first: int = 100,
    ) -> EventPage:
        if not 1 <= first <= MAX_PAGE:
            raise BadEventArguments(f"first must be between 1 and {MAX_PAGE}", "first")
        tenant_id = info.context.caller().tenant_id
        found = await info.context.events.page(
            tenant_id, checked_position(after_position), checked_types(types), first + 1
        )
        page = [CloudEvent.of(event) for event in found[:first]]
        return EventPage(
            events=page,
            last_position=page[-1].position if page else after_position,
            has_more=len(found) > first,
        )
