"""setOkrPolicy: the tenant's OKR rules (admins only), and counting what their caps count."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.domain.tenant_policy import DEFAULT_SOFT_MAX_ACTIVE_OBJECTIVES
from okrledger.graphql.context import Context
from okrledger.graphql.errors import Problem
from okrledger.graphql.mutations.common import (
    ChangeInput,
    MutationPayload,
    attempt,
    command_context,
    handler,
)
from okrledger.graphql.permissions import CanChangeSettings, CanReadGoals
from okrledger.graphql.types.okr_policy import OkrPolicy
from okrledger.projections import okr_queries
from okrledger.services import tenant_settings
from okrledger.services.handling import Outcome
from okrledger.services.tenant_settings import ActiveObjectiveCount


@strawberry.input
class SetOkrPolicyInput(ChangeInput):
    max_key_results: int = strawberry.field(
        description="Hard cap: 1 to 10 key results per objective."
    )
    allow_percent_stretch: bool = strawberry.field(
        default=False, description="Let percent key results go beyond 100."
    )
    soft_max_key_results: int | None = strawberry.field(
        default=None,
        description="Soft cap: warn above this many key results (at most maxKeyResults); "
        "null for no warning.",
    )
    max_active_objectives: int | None = strawberry.field(
        default=None,
        description="Hard cap: 1 to 50 active objectives per owner and cycle; null for none.",
    )
    soft_max_active_objectives: int | None = strawberry.field(
        default=DEFAULT_SOFT_MAX_ACTIVE_OBJECTIVES,
        description="Soft cap: warn above this many active objectives per owner and cycle "
        "(at most maxActiveObjectives); null for no warning.",
    )


@strawberry.type
class SetOkrPolicyPayload(MutationPayload):
    policy: OkrPolicy | None = strawberry.field(
        description="The policy as set; read under okrPolicy's rule, like every payload.",
        permission_classes=[CanReadGoals],
    )


SetOkrPolicyResult = Annotated[
    SetOkrPolicyPayload | Problem, strawberry.union("SetOkrPolicyResult")
]


def active_objectives(info: Info[Context, None]) -> ActiveObjectiveCount:
    """Counts active objectives per owner and cycle from the OKR read model."""

    async def count(cycle_id: UUID, owner: str) -> int:
        async with info.context.read() as rows:
            return await okr_queries.active_objective_count(rows, cycle_id, owner)

    return count


@strawberry.type
class OkrPolicyMutations:
    @strawberry.mutation(
        description="Tune the tenant's OKR rules.", permission_classes=[CanChangeSettings]
    )
    async def set_okr_policy(
        self, info: Info[Context, None], input: SetOkrPolicyInput
    ) -> SetOkrPolicyResult:
        cmd = tenant_settings.SetOKRPolicy(
            max_key_results=input.max_key_results,
            allow_percent_stretch=input.allow_percent_stretch,
            soft_max_key_results=input.soft_max_key_results,
            max_active_objectives=input.max_active_objectives,
            soft_max_active_objectives=input.soft_max_active_objectives,
            expected_version=input.expected_version,
        )
        outcome = await attempt(
            tenant_settings.set_okr_policy(cmd, command_context(info, input), handler(info))
        )
        if not isinstance(outcome, Outcome):
            return outcome
        return SetOkrPolicyPayload(
            policy=OkrPolicy.of(outcome.aggregate),
            version=outcome.version,
            position=outcome.position,
        )
