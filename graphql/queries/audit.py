"""For auditors: goalposts moved in a cycle, and the tenant's hash chain checked."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.graphql.context import Context
from okrledger.graphql.permissions import CanReadAuditLog
from okrledger.graphql.queries.common import AFTER, DEFAULT_PAGE, PAGE_SIZE, refusals
from okrledger.graphql.types.history import ChangeEntry
from okrledger.graphql.types.pages import Connection, connection_of
from okrledger.projections import history_queries


@strawberry.type(description="Whether the tenant's log still chains from hash to hash.")
class AuditChainCheck:
    ok: bool = strawberry.field(description="No event was altered, removed or reordered.")
    checked: int = strawberry.field(description="How many events were verified.")
    last_position: int | None = strawberry.field(description="The last intact position.")
    broken_at: int | None = strawberry.field(description="The first position that fails.")
    problem: str | None = strawberry.field(description="What is wrong there.")


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="Changes that moved a goalpost (a start or target changed after the cycle "
        "began) in a cycle's objectives, oldest first; each entry lists only those changes.",
        permission_classes=[CanReadAuditLog],
    )
    async def goalpost_changes(
        self,
        info: Info[Context, None],
        cycle: UUID,
        first: Annotated[int, PAGE_SIZE] = DEFAULT_PAGE,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[ChangeEntry]:
        with refusals():
            async with info.context.read() as rows:
                page = await history_queries.goalpost_changes(rows, cycle, first=first, after=after)
        return connection_of(page, ChangeEntry.of, after=after)

    @strawberry.field(
        description="Recompute the tenant's hash chain from its stored events, from one "
        "position to another (to the latest when toPosition is null).",
        permission_classes=[CanReadAuditLog],
    )
    async def verify_audit_chain(
        self,
        info: Info[Context, None],
        from_position: int = 1,
        to_position: int | None = None,
    ) -> AuditChainCheck:
        check = await info.context.verify_chain(
            info.context.caller().tenant_id, from_position, to_position
        )
        return AuditChainCheck(
            ok=check.ok,
            checked=check.checked,
            last_position=check.last_position,
            broken_at=check.broken_at,
            problem=check.problem,
        )
