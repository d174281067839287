"""The tenant's OKR policy as clients see it (from the settings aggregate: no read model)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from okrledger.domain.tenant_policy import DEFAULT_POLICY, TenantPolicy
from okrledger.domain.tenant_settings import TenantSettings


@strawberry.type(
    description="The tenant's OKR rules. A change past a soft cap is made and answers a "
    "warning; a change past a hard cap is refused (INVALID_STATE)."
)
class OkrPolicy:
    max_key_results: int = strawberry.field(
        description="Hard cap: key results allowed per objective (1 to 10)."
    )
    soft_max_key_results: int | None = strawberry.field(
        description="Soft cap: more key results than this on one objective answer a warning; "
        "null for none."
    )
    max_active_objectives: int | None = strawberry.field(
        description="Hard cap: active objectives allowed per owner in one cycle (1 to 50); "
        "null for none."
    )
    soft_max_active_objectives: int | None = strawberry.field(
        description="Soft cap: more active objectives than this for one owner in one cycle "
        "answer a warning; null for none."
    )
    allow_percent_stretch: bool = strawberry.field(
        description="Whether percent key results may go beyond 100."
    )
    version: int = strawberry.field(
        description="Send it back as expectedVersion; 0 while the tenant runs on the defaults."
    )
    updated_at: datetime | None = strawberry.field(
        description="When an admin last set it; null while the tenant runs on the defaults."
    )

    @classmethod
    def of(cls, state: TenantSettings) -> Self:
        return cls.of_policy(state.policy, state.version, state.modified_on)

    @classmethod
    def defaults(cls) -> Self:
        return cls.of_policy(DEFAULT_POLICY, 0, None)

    @classmethod
    def of_policy(cls, policy: TenantPolicy, version: int, updated_at: datetime | None) -> Self:
        return cls(
            max_key_results=policy.max_key_results,
            soft_max_key_results=policy.soft_max_key_results,
            max_active_objectives=policy.max_active_objectives,
            soft_max_active_objectives=policy.soft_max_active_objectives,
            allow_percent_stretch=policy.allow_percent_stretch,
            version=version,
            updated_at=updated_at,
        )
