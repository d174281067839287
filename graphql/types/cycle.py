"""A cycle as clients see it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self
from uuid import UUID

import strawberry

from okrledger.projections.okr_queries import CycleView


@strawberry.type(description="The period (a quarter, a year) objectives are set for and graded in.")
class Cycle:
    id: UUID
    name: str = strawberry.field(description='Unique within the tenant, e.g. "2026-Q4".')
    starts_on: date
    ends_on: date
    closed: bool = strawberry.field(
        description="A closed cycle's objectives can be graded, not revised."
    )
    version: int = strawberry.field(description="Send it back as expectedVersion.")
    started_at: datetime = strawberry.field(description="When the cycle was started.")
    updated_at: datetime

    @classmethod
    def of(cls, view: CycleView) -> Self:
        return cls(
            id=view.id,
            name=view.name,
            starts_on=view.starts_on,
            ends_on=view.ends_on,
            closed=view.closed,
            version=view.version,
            started_at=view.started_at,
            updated_at=view.updated_at,
        )
