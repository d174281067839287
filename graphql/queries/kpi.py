"""Reading KPIs: one (now or as of a past moment) or a filtered page of them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.domain.kpi_health import Health
from okrledger.graphql.context import Context
from okrledger.graphql.permissions import CanReadGoals
from okrledger.graphql.queries.common import (
    AFTER,
    DEFAULT_PAGE,
    PAGE_SIZE,
    AsOfInput,
    moment_of,
    refusals,
)
from okrledger.graphql.types.kpi import Kpi
from okrledger.graphql.types.pages import Connection, connection_of
from okrledger.projections import kpi_queries

AS_OF = strawberry.argument(
    description="Read the definition and health as of a past time or position; now if null."
)


@strawberry.type
class KpiQueries:
    @strawberry.field(
        description="One KPI; null if your tenant has no such one (at that moment).",
        permission_classes=[CanReadGoals],
    )
    async def kpi(
        self,
        info: Info[Context, None],
        id: UUID,
        as_of: Annotated[AsOfInput | None, AS_OF] = None,
    ) -> Kpi | None:
        moment = moment_of(as_of)
        async with info.context.read() as rows:
            found = await kpi_queries.kpi_view(rows, id, as_of=moment)
        return None if found is None else Kpi.of(found)

    @strawberry.field(
        description="Current KPIs in the order they were defined, filtered, a page at a time.",
        permission_classes=[CanReadGoals],
    )
    async def kpis(
        self,
        info: Info[Context, None],
        area: str | None = None,
        health: Health | None = None,
        retired: Annotated[
            bool | None, strawberry.argument(description="Only retired, or only active, KPIs.")
        ] = None,
        first: Annotated[int, PAGE_SIZE] = DEFAULT_PAGE,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[Kpi]:
        with refusals():
            async with info.context.read() as rows:
                page = await kpi_queries.kpis(
                    rows, area=area, health=health, retired=retired, first=first, after=after
                )
        return connection_of(page, Kpi.of, after=after)


async def read_kpi(info: Info[Context, None], kpi_id: UUID) -> Kpi:
    """A KPI as the read model has it right after a command."""
    async with info.context.read() as rows:
        found = await kpi_queries.kpi_view(rows, kpi_id)
    if found is None:
        raise LookupError(f"KPI {kpi_id} is not in the read model")
    return Kpi.of(found)
