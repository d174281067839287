"""startCycle, closeCycle and reopenCycle."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.domain.cycle import Cycle as CycleState
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
from okrledger.graphql.permissions import READ_BACK, CanEditGoals, CanReadGoals, CanReopenCycles
from okrledger.graphql.queries.okr import read_cycle
from okrledger.graphql.types.cycle import Cycle
from okrledger.projections.cycle_objectives import ReadModelCycleObjectives
from okrledger.services import cycles
from okrledger.services.handling import Outcome


@strawberry.input
class StartCycleInput(ChangeInput):
    name: str = strawberry.field(description='Unique within the tenant, e.g. "2026-Q4".')
    starts_on: date
    ends_on: date = strawberry.field(description="After startsOn.")
    cycle_id: UUID | None = strawberry.field(
        default=None, description="Chosen by the server if unset."
    )


@strawberry.input
class CloseCycleInput(ChangeInput):
    cycle_id: UUID


@strawberry.input
class ReopenCycleInput(ChangeInput):
    cycle_id: UUID
    reason: str = strawberry.field(
        description="Why the closed cycle is reopened (required, not blank): the history "
        "shows it with the reopening."
    )


@strawberry.interface(description="A cycle command succeeded.")
class CyclePayload(MutationPayload):
    cycle_id: strawberry.Private[UUID]

    @strawberry.field(
        description=READ_BACK.format("cycle", "goals"), permission_classes=[CanReadGoals]
    )
    async def cycle(self, info: Info[Context, None]) -> Cycle | None:
        # Read back from the read model the command updated, only when the caller asks.
        return await read_cycle(info, self.cycle_id)

    @classmethod
    async def read(cls, info: Info[Context, None], outcome: Outcome[CycleState]) -> Self:
        return cls(
            cycle_id=outcome.aggregate.id,
            version=outcome.version,
            position=outcome.position,
        )


@strawberry.type
class StartCyclePayload(CyclePayload):
    pass


@strawberry.type
class CloseCyclePayload(CyclePayload):
    pass


StartCycleResult = Annotated[StartCyclePayload | Problem, strawberry.union("StartCycleResult")]


@strawberry.type
class ReopenCyclePayload(CyclePayload):
    pass


CloseCycleResult = Annotated[CloseCyclePayload | Problem, strawberry.union("CloseCycleResult")]
ReopenCycleResult = Annotated[ReopenCyclePayload | Problem, strawberry.union("ReopenCycleResult")]


@strawberry.type
class CycleMutations:
    @strawberry.mutation(
        description="Start a cycle; its name is unique in the tenant.",
        permission_classes=[CanEditGoals],
    )
    async def start_cycle(
        self, info: Info[Context, None], input: StartCycleInput
    ) -> StartCycleResult:
        if refused := refuse_version_of_new(input, "cycle"):
            return refused
        cmd = cycles.StartCycle(
            name=input.name,
            starts_on=input.starts_on,
            ends_on=input.ends_on,
            cycle_id=input.cycle_id,
        )
        return await answer(
            info,
            cycles.start_cycle(cmd, command_context(info, input), handler(info)),
            StartCyclePayload,
            target="cycleId",
        )

    @strawberry.mutation(
        description="Close (freeze) a cycle: its draft and active objectives are closed with "
        "it; they can still be graded, nothing else changes them (CYCLE_CLOSED).",
        permission_classes=[CanEditGoals],
    )
    async def close_cycle(
        self, info: Info[Context, None], input: CloseCycleInput
    ) -> CloseCycleResult:
        cmd = cycles.CloseCycle(cycle_id=input.cycle_id, expected_version=input.expected_version)
        open_objectives = ReadModelCycleObjectives(info.context.reader)
        return await answer(
            info,
            cycles.close_cycle(cmd, command_context(info, input), handler(info), open_objectives),
            CloseCyclePayload,
            target="cycleId",
        )

    @strawberry.mutation(
        description="Reopen a closed cycle, as an exception with a reason (admins only). "
        "Objectives its close settled stay closed until activated again.",
        permission_classes=[CanReopenCycles],
    )
    async def reopen_cycle(
        self, info: Info[Context, None], input: ReopenCycleInput
    ) -> ReopenCycleResult:
        cmd = cycles.ReopenCycle(cycle_id=input.cycle_id, expected_version=input.expected_version)
        return await answer(
            info,
            cycles.reopen_cycle(cmd, command_context(info, input), handler(info)),
            ReopenCyclePayload,
            target="cycleId",
        )
