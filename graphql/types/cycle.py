"""A cycle as clients see it."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import strawberry


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
    updated_at: datetime
