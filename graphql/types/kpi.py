"""A KPI as clients see it, read from the KPI read models (queries and mutation payloads)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Self
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.domain.kpi import Cadence
from okrledger.domain.kpi_health import Direction, Health
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
from okrledger.graphql.types.kpi_reading import KpiHistoryPoint, KpiReading
from okrledger.graphql.types.pages import Connection, connection_of
from okrledger.projections import kpi_queries
from okrledger.projections.kpi_queries import Aggregate, Bucket, KPIView

strawberry.enum(Direction, description="Which way a KPI's value is better.")
strawberry.enum(Cadence, description="How often a KPI is expected to be read.")
strawberry.enum(Health, description="The band a KPI's latest value falls in.")
strawberry.enum(Bucket, name="KpiBucket", description="UTC buckets; weeks start on Monday.")
strawberry.enum(Aggregate, name="KpiAggregate", description="How a bucket's readings combine.")

FROM = strawberry.argument(name="from", description="Observed at or after (with a zone).")
TO = strawberry.argument(name="to", description="Observed before (with a zone).")
AS_KNOWN_AT = strawberry.argument(
    description="Only what was recorded by then, with the corrections known then; now if null."
)


@strawberry.type(description="Where a KPI turns green and where yellow, read in its direction.")
class KpiBands:
    green: Decimal = strawberry.field(description="The value at which the KPI is green.")
    yellow: Decimal = strawberry.field(description="The value at which the KPI is yellow.")


@strawberry.type(description="The reading observed last.")
class KpiLatestReading:
    reading_id: UUID
    value: Decimal = strawberry.field(description="As corrected.")
    observed_at: datetime


@strawberry.type(description="A continuously tracked indicator of health, with its readings.")
class Kpi:
    id: UUID
    key: str = strawberry.field(description='Unique within the tenant, e.g. "conversion-rate".')
    name: str
    unit: str
    direction: Direction
    area: str = strawberry.field(description="The area or department it belongs to.")
    cadence: Cadence
    target: Decimal | None
    bands: KpiBands | None
    health: Health | None = strawberry.field(
        description="Null until it has both bands and a reading."
    )
    retired: bool = strawberry.field(description="A retired KPI takes no new readings.")
    reading_count: int
    latest_reading: KpiLatestReading | None
    version: int | None = strawberry.field(
        description="Send it back as expectedVersion; null when read as of a past moment."
    )
    defined_at: datetime
    updated_at: datetime = strawberry.field(
        description="When its definition or health last changed."
    )

    @classmethod
    def of(cls, view: KPIView) -> Self:
        latest = view.latest
        return cls(
            id=view.id,
            key=view.key,
            name=view.name,
            unit=view.unit,
            direction=view.direction,
            area=view.area,
            cadence=view.cadence,
            target=view.target,
            bands=None
            if view.bands is None
            else KpiBands(green=view.bands.green, yellow=view.bands.yellow),
            health=view.health,
            retired=view.retired,
            reading_count=view.reading_count,
            latest_reading=None
            if latest is None
            else KpiLatestReading(
                reading_id=latest.reading_id, value=latest.value, observed_at=latest.observed_at
            ),
            version=view.version,
            defined_at=view.defined_at,
            updated_at=view.updated_at,
        )

    @strawberry.field(
        description="Readings observed in [from, to) aggregated per bucket, oldest first; "
        "buckets without readings are left out. Values are as corrected.",
        permission_classes=[CanReadGoals],
    )
    async def history(
        self,
        info: Info[Context, None],
        start: Annotated[datetime, FROM],
        end: Annotated[datetime, TO],
        bucket: Bucket,
        aggregate: Aggregate,
        as_known_at: Annotated[AsOfInput | None, AS_KNOWN_AT] = None,
    ) -> list[KpiHistoryPoint]:
        moment = moment_of(as_known_at)
        with refusals():
            async with info.context.read() as rows:
                points = await kpi_queries.kpi_history(
                    rows, self.id, start, end, bucket, aggregate, as_known_at=moment
                )
        return [
            KpiHistoryPoint(start=p.start, end=p.end, value=p.value, count=p.count) for p in points
        ]

    @strawberry.field(
        description="Readings observed in [from, to), oldest observed first, a page at a time.",
        permission_classes=[CanReadGoals],
    )
    async def readings(
        self,
        info: Info[Context, None],
        start: Annotated[datetime | None, FROM] = None,
        end: Annotated[datetime | None, TO] = None,
        first: Annotated[int, PAGE_SIZE] = DEFAULT_PAGE,
        after: Annotated[str | None, AFTER] = None,
        as_known_at: Annotated[AsOfInput | None, AS_KNOWN_AT] = None,
    ) -> Connection[KpiReading]:
        moment = moment_of(as_known_at)
        with refusals():
            async with info.context.read() as rows:
                page = await kpi_queries.readings(
                    rows,
                    self.id,
                    start=start,
                    end=end,
                    as_known_at=moment,
                    first=first,
                    after=after,
                )
        return connection_of(page, lambda r: KpiReading.of(self.id, r, moment), after=after)
