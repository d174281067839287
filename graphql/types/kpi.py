"""A KPI as clients see it (mutations answer with it; reads come from the KPI read models)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import strawberry

from okrledger.domain.kpi import Cadence
from okrledger.domain.kpi_health import Direction, Health

strawberry.enum(Direction, description="Which way a KPI's value is better.")
strawberry.enum(Cadence, description="How often a KPI is expected to be read.")
strawberry.enum(Health, description="The band a KPI's latest value falls in.")


@strawberry.type(description="Where a KPI turns green and where yellow, read in its direction.")
class KpiBands:
    green: Decimal = strawberry.field(description="The value at which the KPI is green.")
    yellow: Decimal = strawberry.field(description="The value at which the KPI is yellow.")


@strawberry.type(description="The reading observed last.")
class KpiLatestReading:
    reading_id: UUID
    value: Decimal
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
    version: int = strawberry.field(description="Send it back as expectedVersion.")
    updated_at: datetime
