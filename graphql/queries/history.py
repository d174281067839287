"""goalHistory and auditLog: the change history of one goal, or of the whole tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.graphql.context import Context
from okrledger.graphql.permissions import CanReadAuditLog, CanReadHistory
from okrledger.graphql.queries.common import AFTER, DEFAULT_PAGE, PAGE_SIZE, refusals
from okrledger.graphql.types.history import ChangeEntry, HistoryOrder
from okrledger.graphql.types.pages import Connection, connection_of
from okrledger.projections import history_queries
from okrledger.projections.history_queries import HistoryFilter
from okrledger.projections.public_events import asked_types, event_names


@strawberry.input(description="Every criterion given must hold.")
class AuditLogFilter:
    actor: str | None = strawberry.field(default=None, description="Who made the changes.")
    event_types: list[str] | None = strawberry.field(
        default=None,
        description="Any of these public event types or families, e.g. "
        '["okr.key_result.revised.v1", "kpi.*"]; an unknown one is a VALIDATION error.',
    )
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Recorded at or after this time."
    )
    to: datetime | None = strawberry.field(default=None, description="Recorded before this time.")


async def stream_history(
    info: Info[Context, None],
    stream_id: UUID,
    *,
    first: int,
    after: str | None,
    order: HistoryOrder,
) -> Connection[ChangeEntry]:
    with refusals():
        async with info.context.read() as rows:
            page = await history_queries.stream_history(
                rows,
                stream_id,
                newest_first=order is HistoryOrder.NEWEST_FIRST,
                first=first,
                after=after,
            )
    return connection_of(page, ChangeEntry.of, after=after)


@strawberry.type
class HistoryQueries:
    @strawberry.field(
        description="The history of one cycle, objective (with its key results) or setting.",
        permission_classes=[CanReadHistory],
    )
    async def goal_history(
        self,
        info: Info[Context, None],
        stream_id: UUID,
        first: Annotated[int, PAGE_SIZE] = DEFAULT_PAGE,
        after: Annotated[str | None, AFTER] = None,
        order: HistoryOrder = HistoryOrder.NEWEST_FIRST,
    ) -> Connection[ChangeEntry]:
        return await stream_history(info, stream_id, first=first, after=after, order=order)

    @strawberry.field(
        description="Every change in the tenant, newest first, filtered.",
        permission_classes=[CanReadAuditLog],
    )
    async def audit_log(
        self,
        info: Info[Context, None],
        filter: AuditLogFilter | None = None,
        first: Annotated[int, PAGE_SIZE] = DEFAULT_PAGE,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[ChangeEntry]:
        given = filter or AuditLogFilter()
        with refusals():
            asked = asked_types(given.event_types, field="eventTypes")
            where = HistoryFilter(
                actors=[given.actor] if given.actor else [],
                event_types=[] if asked is None else event_names(asked),
                since=given.from_,
                until=given.to,
            )
            async with info.context.read() as rows:
                page = await history_queries.history(rows, where, first=first, after=after)
        return connection_of(page, ChangeEntry.of, after=after)
