"""Linking a key result to a KPI, so the KPI's readings drive its value, and unlinking it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.domain.errors import DomainError
from okrledger.domain.kpi_direction import DirectionMismatch
from okrledger.graphql.context import Context
from okrledger.graphql.errors import DirectionMismatchError, Problem, field_name, user_error
from okrledger.graphql.mutations.common import (
    ChangeInput,
    answer,
    command_context,
    handler,
)
from okrledger.graphql.mutations.objectives import ObjectivePayload
from okrledger.graphql.permissions import CanEditKpis
from okrledger.services import kpi_links


@strawberry.input
class LinkKeyResultToKpiInput(ChangeInput):
    objective_id: UUID
    key_result_id: UUID
    kpi_id: UUID


@strawberry.input
class UnlinkKeyResultFromKpiInput(ChangeInput):
    objective_id: UUID
    key_result_id: UUID


@strawberry.type
class LinkKeyResultToKpiPayload(ObjectivePayload):
    pass


@strawberry.type
class UnlinkKeyResultFromKpiPayload(ObjectivePayload):
    pass


LinkKeyResultToKpiResult = Annotated[
    LinkKeyResultToKpiPayload | Problem | DirectionMismatchError,
    strawberry.union("LinkKeyResultToKpiResult"),
]
UnlinkKeyResultFromKpiResult = Annotated[
    UnlinkKeyResultFromKpiPayload | Problem, strawberry.union("UnlinkKeyResultFromKpiResult")
]


@strawberry.type
class KpiLinkMutations:
    @strawberry.mutation(
        description="Make a numeric key result follow a KPI's readings (expectedVersion is the "
        "objective's); it takes the latest reading observed in its cycle at once. A KPI "
        "wanting the other direction is refused with a DirectionMismatchError.",
        permission_classes=[CanEditKpis],
    )
    async def link_key_result_to_kpi(
        self, info: Info[Context, None], input: LinkKeyResultToKpiInput
    ) -> LinkKeyResultToKpiResult:
        cmd = kpi_links.LinkKeyResultToKPI(
            objective_id=input.objective_id,
            key_result_id=input.key_result_id,
            kpi_id=input.kpi_id,
            expected_version=input.expected_version,
        )
        try:
            outcome = await kpi_links.link_key_result_to_kpi(
                cmd, command_context(info, input), handler(info)
            )
        except DirectionMismatch as error:
            return DirectionMismatchError(
                code=error.code, message=error.message, field=field_name(error.field)
            )
        except DomainError as error:
            return user_error(error, target="objectiveId")
        return await LinkKeyResultToKpiPayload.read(info, outcome)

    @strawberry.mutation(
        description="Stop a key result following its KPI; it keeps its current value.",
        permission_classes=[CanEditKpis],
    )
    async def unlink_key_result_from_kpi(
        self, info: Info[Context, None], input: UnlinkKeyResultFromKpiInput
    ) -> UnlinkKeyResultFromKpiResult:
        cmd = kpi_links.UnlinkKeyResultFromKPI(
            objective_id=input.objective_id,
            key_result_id=input.key_result_id,
            expected_version=input.expected_version,
        )
        return await answer(
            info,
            kpi_links.unlink_key_result_from_kpi(cmd, command_context(info, input), handler(info)),
            UnlinkKeyResultFromKpiPayload,
            target="objectiveId",
        )
