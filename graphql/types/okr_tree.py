"""A cycle's OKR tree: its root objectives, each with nested children and key results."""

from __future__ import annotations

from datetime import datetime

import strawberry

from okrledger.graphql.types.cycle import Cycle
from okrledger.graphql.types.objective import Objective


@strawberry.type(description="A cycle's objectives as a tree, now or as of a past moment.")
class OkrTree:
    cycle: Cycle
    roots: list[Objective] = strawberry.field(
        description="Objectives aligned under none in this cycle; follow `children` down."
    )
    objectives: list[Objective] = strawberry.field(
        description="Every objective of the tree, depth first."
    )
    judged_at: datetime = strawberry.field(description="The moment pace is judged at.")
    as_of_position: int | None = strawberry.field(description="The position read at, if any.")
    as_of_time: datetime | None = strawberry.field(description="The time read at, if any.")
