"""A KPI's readings, their corrections and its bucketed history, as clients see them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Self
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.graphql.context import Context
from okrledger.projections.kpi_queries import CorrectionView, ReadingView
from okrledger.projections.pages import AsOf


@strawberry.type(description="One bucket of a KPI's history: [start, end) and its readings.")
class KpiHistoryPoint:
    start: datetime
    end: datetime
    value: Decimal = strawberry.field(description="The bucket's readings, aggregated.")
    count: int = strawberry.field(description="How many readings the bucket holds.")


@strawberry.type(description="A reading's value was corrected, with a reason.")
class KpiReadingCorrection:
    value: Decimal = strawberry.field(description="The value it was corrected to.")
    previous_value: Decimal
    reason: str
    recorded_at: datetime
    position: int = strawberry.field(description="The tenant log position of the correction.")

    @classmethod
    def of(cls, view: CorrectionView) -> Self:
        return cls(
            value=view.value,
            previous_value=view.previous_value,
            reason=view.reason,
            recorded_at=view.recorded_at,
            position=view.position,
        )


@strawberry.type(description="One observed value of a KPI.")
class KpiReading:
    reading_id: UUID
    value: Decimal = strawberry.field(
        description="As corrected (read as known at a moment: as it was known then)."
    )
    original_value: Decimal = strawberry.field(description="As first recorded.")
    observed_at: datetime = strawberry.field(description="When the value applied.")
    recorded_at: datetime = strawberry.field(description="When it entered the log.")
    source: str | None = strawberry.field(description="The system (integration) it came from.")
    recorded_by: str | None = strawberry.field(
        description="Who recorded it: the subject of the caller's token."
    )
    run_id: str | None = strawberry.field(description="The integration run that sent it.")
    client: str | None = strawberry.field(
        description="The client application the caller's token named (client_id)."
    )
    corrected_at: datetime | None = strawberry.field(
        description="When it was last corrected; null if its value is the original."
    )
    correction_count: int
    kpi_id: strawberry.Private[UUID]
    known_at: strawberry.Private[AsOf | None]

    @classmethod
    def of(cls, kpi_id: UUID, view: ReadingView, known_at: AsOf | None) -> Self:
        return cls(
            reading_id=view.reading_id,
            value=view.value,
            original_value=view.original_value,
            observed_at=view.observed_at,
            recorded_at=view.recorded_at,
            source=view.source,
            recorded_by=view.recorded_by,
            run_id=view.run_id,
            client=view.client,
            corrected_at=view.corrected_at,
            correction_count=view.corrections,
            kpi_id=kpi_id,
            known_at=known_at,
        )

    @strawberry.field(description="Its corrections in the order they were recorded.")
    async def corrections(self, info: Info[Context, None]) -> list[KpiReadingCorrection]:
        if not self.correction_count:
            return []
        found = await info.context.loaders.corrections.load((self.kpi_id, self.reading_id))
        return [KpiReadingCorrection.of(c) for c in found if self._known(c)]

    def _known(self, correction: CorrectionView) -> bool:
        moment = self.known_at
        if moment is None:
            return True
        if moment.position is not None:
            return correction.position <= moment.position
        assert moment.time is not None
        return correction.recorded_at <= moment.time
