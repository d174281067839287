"""An objective and its key results as clients see them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import strawberry

from okrledger.domain.objective import Confidence, MetricKind, ObjectiveStatus

strawberry.enum(MetricKind, description="How a key result is measured.")
strawberry.enum(Confidence, description="How likely the owner thinks the target is.")
strawberry.enum(ObjectiveStatus, description="Where an objective is in its lifecycle.")


@strawberry.type(description="A specific, measurable result that shows an objective is met.")
class KeyResult:
    id: UUID
    objective_id: UUID
    title: str
    metric: MetricKind
    start: Decimal
    target: Decimal
    current: Decimal = strawberry.field(description="The latest checked-in (or KPI) value.")
    weight: Decimal = strawberry.field(description="Its share in the objective's progress.")
    unit: str
    currency: str | None = strawberry.field(description="ISO 4217 code of a currency metric.")
    confidence: Confidence | None
    note: str = strawberry.field(description="The note of the latest check-in.")
    kpi_id: UUID | None = strawberry.field(description="The KPI that drives its value, if any.")


@strawberry.type(description="A qualitative, inspiring goal for a cycle.")
class Objective:
    id: UUID
    cycle_id: UUID
    title: str
    description: str
    owner: str = strawberry.field(description="A person or a team.")
    team: str | None
    parent_id: UUID | None = strawberry.field(
        description="The objective this one is aligned under, if any."
    )
    status: ObjectiveStatus
    score: Decimal | None = strawberry.field(description="The grade, 0.0 to 1.0, once graded.")
    retrospective: str
    key_results: list[KeyResult]
    version: int = strawberry.field(description="Send it back as expectedVersion.")
    updated_at: datetime
