"""The tenant's OKR policy as clients see it."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(description="The tenant's OKR rules.")
class OkrPolicy:
    max_key_results: int = strawberry.field(description="Key results allowed per objective.")
    allow_percent_stretch: bool = strawberry.field(
        description="Whether percent key results may go beyond 100."
    )
    version: int = strawberry.field(description="Send it back as expectedVersion.")
    updated_at: datetime
