"""setOkrPolicy: the tenant's OKR rules (admins only)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from okrledger.graphql.context import Context
from okrledger.graphql.errors import Problem
from okrledger.graphql.mutations.common import (
    ChangeInput,
    MutationPayload,
    attempt,
    command_context,
    handler,
)
from okrledger.graphql.permissions import CanChangeSettings
from okrledger.graphql.types.from_aggregates import okr_policy_of
from okrledger.graphql.types.okr_policy import OkrPolicy
from okrledger.services import tenant_settings
from okrledger.services.handling import Outcome


@strawberry.input
class SetOkrPolicyInput(ChangeInput):
    max_key_results: int = strawberry.field(description="1 to 10 key results per objective.")
    allow_percent_stretch: bool = strawberry.field(
        default=False, description="Let percent key results go beyond 100."
    )


@strawberry.type
class SetOkrPolicyPayload(MutationPayload):
    policy: OkrPolicy


SetOkrPolicyResult = Annotated[
    SetOkrPolicyPayload | Problem, strawberry.union("SetOkrPolicyResult")
]


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
            expected_version=input.expected_version,
        )
        outcome = await attempt(
            tenant_settings.set_okr_policy(cmd, command_context(info, input), handler(info))
        )
        if not isinstance(outcome, Outcome):
            return outcome
        return SetOkrPolicyPayload(
            policy=okr_policy_of(outcome.aggregate),
            version=outcome.version,
            position=outcome.position,
        )
