"""KPI definition mutations: define, revise, set the target and the bands, retire."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Self
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.domain.kpi import KPI, Cadence
from okrledger.domain.kpi_health import Direction
from okrledger.graphql.context import Context
from okrledger.graphql.errors import Problem
from okrledger.graphql.mutations.common import (
    ChangeInput,
    MutationPayload,
    answer,
    command_context,
    handler,
    refuse_version_of_new,
)
from okrledger.graphql.permissions import READ_BACK, CanEditKpis, CanReadGoals
from okrledger.graphql.queries.kpi import read_kpi
from okrledger.graphql.types.kpi import Kpi
from okrledger.services import kpis
from okrledger.services.handling import Outcome


@strawberry.input(description="Green and yellow thresholds, read in the KPI's direction.")
class KpiBandsInput:
    green: Decimal
    yellow: Decimal

    def command(self) -> kpis.BandsInput:
        return kpis.BandsInput(green=self.green, yellow=self.yellow)


@strawberry.input
class DefineKpiInput(ChangeInput):
    name: str
    key: str = strawberry.field(description='A lowercase slug, unique in the tenant: "nps".')
    direction: Direction
    area: str
    cadence: Cadence
    unit: str = ""
    target: Decimal | None = None
    bands: KpiBandsInput | None = None
    kpi_id: UUID | None = strawberry.field(
        default=None, description="Chosen by the server if unset."
    )


@strawberry.input
class KpiChangeInput(ChangeInput):
    kpi_id: UUID


@strawberry.input
class ReviseKpiInput(KpiChangeInput):
    name: str | None = strawberry.field(default=None, description="Unchanged if unset.")
    unit: str | None = strawberry.field(default=None, description="An empty string removes it.")
    direction: Direction | None = None
    area: str | None = None
    cadence: Cadence | None = None


@strawberry.input
class SetKpiTargetInput(KpiChangeInput):
    target: Decimal | None = strawberry.field(description="null removes the target.")


@strawberry.input
class SetKpiBandsInput(KpiChangeInput):
    bands: KpiBandsInput | None = strawberry.field(
        description="null removes the bands, and with them the KPI's health."
    )


@strawberry.input
class RetireKpiInput(KpiChangeInput):
    pass


@strawberry.interface(description="A KPI command succeeded.")
class KpiPayload(MutationPayload):
    kpi_id: strawberry.Private[UUID]

    @strawberry.field(
        description=READ_BACK.format("KPI", "KPIs"), permission_classes=[CanReadGoals]
    )
    async def kpi(self, info: Info[Context, None]) -> Kpi | None:
        # Read back from the read model the command updated, only when the caller asks.
        return await read_kpi(info, self.kpi_id)

    @classmethod
    async def read(cls, info: Info[Context, None], outcome: Outcome[KPI]) -> Self:
        return cls(kpi_id=outcome.aggregate.id, version=outcome.version, position=outcome.position)


@strawberry.type
class DefineKpiPayload(KpiPayload):
    pass


@strawberry.type
class ReviseKpiPayload(KpiPayload):
    pass


@strawberry.type
class SetKpiTargetPayload(KpiPayload):
    pass


@strawberry.type
class SetKpiBandsPayload(KpiPayload):
    pass


@strawberry.type
class RetireKpiPayload(KpiPayload):
    pass


DefineKpiResult = Annotated[DefineKpiPayload | Problem, strawberry.union("DefineKpiResult")]
ReviseKpiResult = Annotated[ReviseKpiPayload | Problem, strawberry.union("ReviseKpiResult")]
SetKpiTargetResult = Annotated[
    SetKpiTargetPayload | Problem, strawberry.union("SetKpiTargetResult")
]
SetKpiBandsResult = Annotated[SetKpiBandsPayload | Problem, strawberry.union("SetKpiBandsResult")]
RetireKpiResult = Annotated[RetireKpiPayload | Problem, strawberry.union("RetireKpiResult")]


@strawberry.type
class KpiMutations:
    @strawberry.mutation(
        description="Define a KPI: unit, direction, area, cadence, and maybe target and bands.",
        permission_classes=[CanEditKpis],
    )
    async def define_kpi(self, info: Info[Context, None], input: DefineKpiInput) -> DefineKpiResult:
        refused = refuse_version_of_new(input, "KPI")
        if refused is not None:
            return refused
        cmd = kpis.DefineKPI(
            name=input.name,
            key=input.key,
            unit=input.unit,
            direction=input.direction,
            area=input.area,
            cadence=input.cadence,
            target=input.target,
            bands=None if input.bands is None else input.bands.command(),
            kpi_id=input.kpi_id,
        )
        return await answer(
            info,
            kpis.define_kpi(cmd, command_context(info, input), handler(info)),
            DefineKpiPayload,
        )

    @strawberry.mutation(
        description="Change a KPI's name, unit, direction, area or cadence.",
        permission_classes=[CanEditKpis],
    )
    async def revise_kpi(self, info: Info[Context, None], input: ReviseKpiInput) -> ReviseKpiResult:
        cmd = kpis.ReviseKPI(
            kpi_id=input.kpi_id,
            name=input.name,
            unit=input.unit,
            direction=input.direction,
            area=input.area,
            cadence=input.cadence,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            kpis.revise_kpi(cmd, command_context(info, input), handler(info)),
            ReviseKpiPayload,
            target="kpiId",
        )

    @strawberry.mutation(
        description="Set or remove the value a KPI aims for.", permission_classes=[CanEditKpis]
    )
    async def set_kpi_target(
        self, info: Info[Context, None], input: SetKpiTargetInput
    ) -> SetKpiTargetResult:
        cmd = kpis.SetKPITarget(
            kpi_id=input.kpi_id, target=input.target, expected_version=input.expected_version
        )
        return await answer(
            info,
            kpis.set_kpi_target(cmd, command_context(info, input), handler(info)),
            SetKpiTargetPayload,
            target="kpiId",
        )

    @strawberry.mutation(
        description="Set or remove a KPI's health bands; its health follows at once.",
        permission_classes=[CanEditKpis],
    )
    async def set_kpi_bands(
        self, info: Info[Context, None], input: SetKpiBandsInput
    ) -> SetKpiBandsResult:
        cmd = kpis.SetKPIBands(
            kpi_id=input.kpi_id,
            bands=None if input.bands is None else input.bands.command(),
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            kpis.set_kpi_bands(cmd, command_context(info, input), handler(info)),
            SetKpiBandsPayload,
            target="kpiId",
        )

    @strawberry.mutation(
        description="Retire a KPI: it takes no more readings; its history stays.",
        permission_classes=[CanEditKpis],
    )
    async def retire_kpi(self, info: Info[Context, None], input: RetireKpiInput) -> RetireKpiResult:
        cmd = kpis.RetireKPI(kpi_id=input.kpi_id, expected_version=input.expected_version)
        return await answer(
            info,
            kpis.retire_kpi(cmd, command_context(info, input), handler(info)),
            RetireKpiPayload,
            target="kpiId",
        )
