"""The tenant's OKR policy as clients see it (from the settings aggregate: no read model)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from okrledger.domain.tenant_settings import TenantSettings


@strawberry.type(description="The tenant's OKR rules.")
class OkrPolicy:
    max_key_results: int = strawberry.field(description="Key results allowed per objective.")
    allow_percent_stretch: bool = strawberry.field(
        description="Whether percent key results may go beyond 100."
    )
    version: int = strawberry.field(description="Send it back as expectedVersion.")
    updated_at: datetime

    @classmethod
    def of(cls, state: TenantSettings) -> Self:
        return cls(
            max_key_results=state.max_key_results,
            allow_percent_stretch=state.allow_percent_stretch,
            version=state.version,
            updated_at=state.modified_on,
        )
