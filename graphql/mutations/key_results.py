"""Key result mutations: add, revise, remove and check in (each answers with the objective)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Self
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.domain.objective import Confidence, MetricKind
from okrledger.domain.objective import Objective as ObjectiveState
from okrledger.graphql.context import Context
from okrledger.graphql.errors import Problem
from okrledger.graphql.mutations.common import (
    ChangeInput,
    answer,
    command_context,
    handler,
)
from okrledger.graphql.mutations.objectives import ObjectivePayload
from okrledger.graphql.permissions import CanEditGoals
from okrledger.services import key_results, tenant_settings
from okrledger.services.handling import Outcome


@strawberry.input
class AddKeyResultInput(ChangeInput):
    objective_id: UUID
    title: str
    metric: MetricKind
    start: Decimal | None = strawberry.field(
        default=None, description="Required for number, percent and currency; 0 otherwise."
    )
    target: Decimal | None = strawberry.field(
        default=None, description="Required for number, percent and currency; 1 otherwise."
    )
    unit: str = ""
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code, for currency key results only."
    )
    weight: Decimal = strawberry.field(
        default=Decimal(1), description="Its share in the objective's progress."
    )
    key_result_id: UUID | None = strawberry.field(
        default=None, description="Chosen by the server if unset."
    )


@strawberry.input
class KeyResultChangeInput(ChangeInput):
    objective_id: UUID
    key_result_id: UUID


@strawberry.input
class ReviseKeyResultInput(KeyResultChangeInput):
    title: str | None = None
    start: Decimal | None = None
    target: Decimal | None = None
    unit: str | None = strawberry.field(default=None, description="An empty string removes it.")
    weight: Decimal | None = None


@strawberry.input
class RemoveKeyResultInput(KeyResultChangeInput):
    pass


@strawberry.input
class CheckInKeyResultInput(KeyResultChangeInput):
    value: Decimal
    confidence: Confidence
    note: str = ""
    observed_at: datetime | None = strawberry.field(
        default=None, description="When the value applied (with a zone); now if null."
    )
    source: str | None = strawberry.field(
        default=None, description="The system (integration) it came from, if not a person."
    )
    run_id: str | None = strawberry.field(
        default=None, description="The integration run that sent it (e.g. a sync job id)."
    )


@strawberry.type
class AddKeyResultPayload(ObjectivePayload):
    @classmethod
    async def read(cls, info: Info[Context, None], outcome: Outcome[ObjectiveState]) -> Self:
        payload = await super().read(info, outcome)
        payload.warnings = await tenant_settings.key_result_warnings(
            handler(info), info.context.caller().tenant_id, outcome.aggregate
        )
        return payload


@strawberry.type
class ReviseKeyResultPayload(ObjectivePayload):
    pass


@strawberry.type
class RemoveKeyResultPayload(ObjectivePayload):
    pass


@strawberry.type
class CheckInKeyResultPayload(ObjectivePayload):
    pass


AddKeyResultResult = Annotated[
    AddKeyResultPayload | Problem, strawberry.union("AddKeyResultResult")
]
ReviseKeyResultResult = Annotated[
    ReviseKeyResultPayload | Problem, strawberry.union("ReviseKeyResultResult")
]
RemoveKeyResultResult = Annotated[
    RemoveKeyResultPayload | Problem, strawberry.union("RemoveKeyResultResult")
]
CheckInKeyResultResult = Annotated[
    CheckInKeyResultPayload | Problem, strawberry.union("CheckInKeyResultResult")
]


@strawberry.type
class KeyResultMutations:
    @strawberry.mutation(
        description="Add a measurable key result to an objective (at most 5 by default).",
        permission_classes=[CanEditGoals],
    )
    async def add_key_result(
        self, info: Info[Context, None], input: AddKeyResultInput
    ) -> AddKeyResultResult:
        cmd = key_results.AddKeyResult(
            objective_id=input.objective_id,
            title=input.title,
            metric=input.metric,
            start=input.start,
            target=input.target,
            unit=input.unit,
            currency=input.currency,
            weight=input.weight,
            key_result_id=input.key_result_id,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            key_results.add_key_result(cmd, command_context(info, input), handler(info)),
            AddKeyResultPayload,
            target="objectiveId",
        )

    @strawberry.mutation(
        description="Change a key result's title, start, target, unit or weight.",
        permission_classes=[CanEditGoals],
    )
    async def revise_key_result(
        self, info: Info[Context, None], input: ReviseKeyResultInput
    ) -> ReviseKeyResultResult:
        cmd = key_results.ReviseKeyResult(
            objective_id=input.objective_id,
            key_result_id=input.key_result_id,
            title=input.title,
            start=input.start,
            target=input.target,
            unit=input.unit,
            weight=input.weight,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            key_results.revise_key_result(cmd, command_context(info, input), handler(info)),
            ReviseKeyResultPayload,
            target="objectiveId",
        )

    @strawberry.mutation(
        description="Remove a key result from its objective (its history stays).",
        permission_classes=[CanEditGoals],
    )
    async def remove_key_result(
        self, info: Info[Context, None], input: RemoveKeyResultInput
    ) -> RemoveKeyResultResult:
        cmd = key_results.RemoveKeyResult(
            objective_id=input.objective_id,
            key_result_id=input.key_result_id,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            key_results.remove_key_result(cmd, command_context(info, input), handler(info)),
            RemoveKeyResultPayload,
            target="objectiveId",
        )

    @strawberry.mutation(
        description="Record a key result's new value with a confidence and an optional note.",
        permission_classes=[CanEditGoals],
    )
    async def check_in_key_result(
        self, info: Info[Context, None], input: CheckInKeyResultInput
    ) -> CheckInKeyResultResult:
        cmd = key_results.CheckInKeyResult(
            objective_id=input.objective_id,
            key_result_id=input.key_result_id,
            value=input.value,
            confidence=input.confidence,
            note=input.note,
            observed_at=input.observed_at,
            source=input.source,
            run_id=input.run_id,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            key_results.check_in_key_result(cmd, command_context(info, input), handler(info)),
            CheckInKeyResultPayload,
            target="objectiveId",
        )
