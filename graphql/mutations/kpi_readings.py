"""KPI readings: record one, record a batch (all or nothing), correct one with a reason.

Recording moves the key results linked to the KPI (the context's `follow_readings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info
from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition

from okrledger.domain.errors import DomainError
from okrledger.domain.kpi import KPIReadingsRefused
from okrledger.graphql.context import Context
from okrledger.graphql.errors import Problem, UserError, field_name, user_error
from okrledger.graphql.mutations.common import (
    ChangeInput,
    answer,
    command_context,
    handler,
)
from okrledger.graphql.mutations.kpis import KpiPayload
from okrledger.graphql.permissions import CanEditKpis, CanRecordKpiReadings
from okrledger.services import kpis


@strawberry.input(description="One observed value of a KPI.")
class KpiReadingInput:
    value: Decimal
    observed_at: datetime = strawberry.field(description="When it was observed (with a zone).")
    source: str | None = strawberry.field(
        default=None, description="The system (integration) it came from."
    )
    reading_id: UUID | None = strawberry.field(
        default=None,
        description="Your id for the reading: sending the same reading again records nothing "
        "twice; another reading (value, time, source or KPI) with it is refused "
        "(READING_ID_REUSED).",
    )
    run_id: str | None = strawberry.field(
        default=None, description="The integration run that sent it (e.g. a sync job id)."
    )

    def command(self) -> kpis.ReadingInput:
        return kpis.ReadingInput(
            self.value, self.observed_at, self.source, self.reading_id, self.run_id
        )


@strawberry.input
class RecordKpiReadingInput(ChangeInput, KpiReadingInput):
    kpi_id: UUID


@strawberry.input
class RecordKpiReadingsInput(ChangeInput):
    kpi_id: UUID
    readings: list[KpiReadingInput] = strawberry.field(description="1 to 5,000 readings.")


def _batch_from_input(kind: type, value: Mapping[str, Any], context: InputContext) -> Any:
    """Up to 5,000 readings: each is built in one call, not converted field by field.

    graphql-core has already coerced (and refused) every field of every reading by its
    scalar; strawberry's general conversion would only name them again, slowly. The other
    fields of the input are converted as strawberry converts them.
    """
    definition = get_object_definition(kind, strict=True)
    fields: dict[str, Any] = {}
    for field in definition.fields:
        name = context.config.name_converter.from_field(field)
        if name not in value:
            continue
        if field.python_name == "readings":
            fields["readings"] = [
                KpiReadingInput(
                    value=item["value"],
                    observed_at=item["observedAt"],
                    source=item.get("source"),
                    reading_id=item.get("readingId"),
                    run_id=item.get("runId"),
                )
                for item in value[name]
            ]
        else:
            field_type = field.resolve_type(type_definition=definition)
            fields[field.python_name] = context.convert(value[name], field_type, name)
    return kind(**fields)


RecordKpiReadingsInput.__strawberry_definition__.from_input = _batch_from_input  # type: ignore[attr-defined]


@strawberry.input
class CorrectKpiReadingInput(ChangeInput):
    kpi_id: UUID
    reading_id: UUID
    value: Decimal
    reason: str = strawberry.field(description="Why the reading was wrong (required).")


@strawberry.type
class RecordKpiReadingPayload(KpiPayload):
    reading_id: UUID
    recorded: bool = strawberry.field(
        description="False when this same reading was recorded before (nothing changed)."
    )


@strawberry.type
class RecordKpiReadingsPayload(KpiPayload):
    recorded: list[UUID] = strawberry.field(description="Reading ids newly recorded, in order.")
    repeated: list[UUID] = strawberry.field(
        description="Reading ids recorded before; skipped, not changed."
    )


@strawberry.type
class CorrectKpiReadingPayload(KpiPayload):
    pass


@strawberry.type(description="Why one reading of a batch was refused.")
class KpiReadingRefusal:
    index: int = strawberry.field(description="Its position in the batch, from 0.")
    reading_id: UUID
    code: str
    message: str
    field: str | None


@strawberry.type(description="Some readings of the batch are invalid, so none was recorded.")
class KpiReadingsRefusedError(UserError):
    refusals: list[KpiReadingRefusal]


RecordKpiReadingResult = Annotated[
    RecordKpiReadingPayload | Problem, strawberry.union("RecordKpiReadingResult")
]
RecordKpiReadingsResult = Annotated[
    RecordKpiReadingsPayload | KpiReadingsRefusedError | Problem,
    strawberry.union("RecordKpiReadingsResult"),
]
CorrectKpiReadingResult = Annotated[
    CorrectKpiReadingPayload | Problem, strawberry.union("CorrectKpiReadingResult")
]


def refused(error: KPIReadingsRefused) -> KpiReadingsRefusedError:
    refusals = []
    for refusal in error.refusals:
        typed = user_error(refusal.error)
        refusals.append(
            KpiReadingRefusal(
                index=refusal.index,
                reading_id=refusal.reading_id,
                code=typed.code,
                message=typed.message,
                field=typed.field,
            )
        )
    return KpiReadingsRefusedError(
        code="VALIDATION", message=error.message, field=field_name(error.field), refusals=refusals
    )


@strawberry.type
class KpiReadingMutations:
    @strawberry.mutation(
        description="Record one reading of a KPI; linked key results follow it.",
        permission_classes=[CanRecordKpiReadings],
    )
    async def record_kpi_reading(
        self, info: Info[Context, None], input: RecordKpiReadingInput
    ) -> RecordKpiReadingResult:
        reading = input.command()
        cmd = kpis.RecordKPIReading(
            kpi_id=input.kpi_id,
            value=reading.value,
            observed_at=reading.observed_at,
            source=reading.source,
            reading_id=reading.reading_id,
            expected_version=input.expected_version,
            run_id=reading.run_id,
        )
        run = kpis.record_kpi_reading(
            cmd, command_context(info, input), handler(info), follow=info.context.follow_readings
        )
        try:
            result = await run
        except DomainError as error:
            return user_error(error, target="kpiId")
        recorded = bool(result.recorded)
        return RecordKpiReadingPayload(
            kpi_id=result.outcome.aggregate.id,
            version=result.outcome.version,
            position=result.outcome.position,
            reading_id=(result.recorded or result.repeated)[0],
            recorded=recorded,
        )

    @strawberry.mutation(
        description="Record up to 5,000 readings at once: all of them, or none with every "
        "invalid one reported.",
        permission_classes=[CanRecordKpiReadings],
    )
    async def record_kpi_readings(
        self, info: Info[Context, None], input: RecordKpiReadingsInput
    ) -> RecordKpiReadingsResult:
        cmd = kpis.RecordKPIReadings(
            kpi_id=input.kpi_id,
            readings=[reading.command() for reading in input.readings],
            expected_version=input.expected_version,
        )
        run = kpis.record_kpi_readings(
            cmd, command_context(info, input), handler(info), follow=info.context.follow_readings
        )
        try:
            result = await run
        except KPIReadingsRefused as error:
            return refused(error)
        except DomainError as error:
            return user_error(error, target="kpiId")
        return RecordKpiReadingsPayload(
            kpi_id=result.outcome.aggregate.id,
            version=result.outcome.version,
            position=result.outcome.position,
            recorded=result.recorded,
            repeated=result.repeated,
        )

    @strawberry.mutation(
        description="Correct a reading's value, with a reason; the original stays in the history.",
        # A KPI owner's act: integrators feed readings in, they do not rewrite them.
        permission_classes=[CanEditKpis],
    )
    async def correct_kpi_reading(
        self, info: Info[Context, None], input: CorrectKpiReadingInput
    ) -> CorrectKpiReadingResult:
        cmd = kpis.CorrectKPIReading(
            kpi_id=input.kpi_id,
            reading_id=input.reading_id,
            value=input.value,
            reason=input.reason,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            kpis.correct_kpi_reading(
                cmd,
                command_context(info, input),
                handler(info),
                follow=info.context.follow_corrections,
            ),
            CorrectKpiReadingPayload,
            target="kpiId",
        )
