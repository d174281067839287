"""Reading OKRs: cycles, objectives (one, a page, or a cycle's tree) and key results."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from okrledger.domain.objective import ObjectiveStatus
from okrledger.graphql.context import Context
from okrledger.graphql.permissions import CanReadGoals
from okrledger.graphql.queries.common import (
    AFTER,
    DEFAULT_PAGE,
    PAGE_SIZE,
    AsOfInput,
    moment_of,
    refusals,
)
from okrledger.graphql.types.cycle import Cycle
from okrledger.graphql.types.objective import KeyResult, Objective, OkrGraph
from okrledger.graphql.types.okr_policy import OkrPolicy
from okrledger.graphql.types.okr_tree import OkrTree
from okrledger.graphql.types.pages import Connection, connection_of
from okrledger.projections import okr_queries
from okrledger.projections.collector import collector_paused
from okrledger.services import tenant_settings

AS_OF = strawberry.argument(description="Read as of a past time or position; now if null.")


@strawberry.type
class OkrQueries:
    @strawberry.field(
        description="The tenant's OKR rules: the caps on key results and active objectives "
        "(soft: a warning; hard: a refusal), so a form can say so before a change is sent.",
        permission_classes=[CanReadGoals],
    )
    async def okr_policy(self, info: Info[Context, None]) -> OkrPolicy:
        settings = await tenant_settings.okr_settings(
            info.context.handler, info.context.caller().tenant_id
        )
        return OkrPolicy.defaults() if settings is None else OkrPolicy.of(settings)

    @strawberry.field(
        description="The tenant's cycles, latest start first.", permission_classes=[CanReadGoals]
    )
    async def cycles(
        self, info: Info[Context, None], as_of: Annotated[AsOfInput | None, AS_OF] = None
    ) -> list[Cycle]:
        moment = moment_of(as_of)
        async with info.context.read() as rows:
            found = await okr_queries.cycles(rows, as_of=moment)
        return [Cycle.of(c) for c in found]

    @strawberry.field(
        description="One objective with its key results; null if your tenant has no such one.",
        permission_classes=[CanReadGoals],
    )
    async def objective(
        self,
        info: Info[Context, None],
        id: UUID,
        as_of: Annotated[AsOfInput | None, AS_OF] = None,
    ) -> Objective | None:
        moment = moment_of(as_of)
        if moment is None:
            return await info.context.loaders.objectives.load(id)
        async with info.context.read() as rows:
            cycle_id = (await okr_queries.cycles_of_objectives(rows, [id])).get(id)
            tree = (
                None
                if cycle_id is None
                else await okr_queries.cycle_tree(
                    rows, cycle_id, as_of=moment, include_archived=True
                )
            )
        return None if tree is None else OkrGraph(tree).objective(id)

    @strawberry.field(
        description="Current objectives in the order they were set, filtered, a page at a time.",
        permission_classes=[CanReadGoals],
    )
    async def objectives(
        self,
        info: Info[Context, None],
        cycle: UUID | None = None,
        owner: str | None = None,
        status: list[ObjectiveStatus] | None = None,
        first: Annotated[int, PAGE_SIZE] = DEFAULT_PAGE,
        after: Annotated[str | None, AFTER] = None,
    ) -> Connection[Objective]:
        with refusals():
            async with info.context.read() as rows:
                page = await okr_queries.objectives(
                    rows,
                    cycle_id=cycle,
                    owner=owner,
                    statuses=status or (),
                    first=first,
                    after=after,
                )
        cycle_ids = sorted({s.cycle_id for s in page.items})
        graphs = dict(
            zip(cycle_ids, await info.context.loaders.graphs.load_many(cycle_ids), strict=True)
        )

        def node(summary: okr_queries.ObjectiveSummary) -> Objective:
            graph = graphs[summary.cycle_id]
            found = None if graph is None else graph.objective(summary.id)
            assert found is not None, "a listed objective is in its cycle's tree"
            return found

        return connection_of(page, node, after=after)

    @strawberry.field(
        description="A cycle's OKR tree with rolled-up progress; null if the cycle did not "
        "exist (at that moment).",
        permission_classes=[CanReadGoals],
    )
    async def okr_tree(
        self,
        info: Info[Context, None],
        cycle: UUID,
        as_of: Annotated[AsOfInput | None, AS_OF] = None,
        include_archived: Annotated[
            bool, strawberry.argument(description="Show archived objectives (never counted).")
        ] = False,
    ) -> OkrTree | None:
        moment = moment_of(as_of)
        async with info.context.read() as rows:
            tree = await okr_queries.cycle_tree(
                rows,
                cycle,
                as_of=moment,
                now=info.context.now if moment is None else None,
                include_archived=include_archived,
            )
        if tree is None:
            return None
        graph = OkrGraph(tree)
        with collector_paused():
            objectives = [o for o in map(graph.objective, (v.id for v in tree.objectives)) if o]
        return OkrTree(
            cycle=graph.cycle,
            roots=graph.roots(),
            objectives=objectives,
            judged_at=tree.now,
            as_of_position=None if moment is None else moment.position,
            as_of_time=None if moment is None else moment.time,
        )

    @strawberry.field(
        description="One current key result; null if your tenant has no such one.",
        permission_classes=[CanReadGoals],
    )
    async def key_result(self, info: Info[Context, None], id: UUID) -> KeyResult | None:
        async with info.context.read() as rows:
            objective_id = await okr_queries.objective_of_key_result(rows, id)
        if objective_id is None:
            return None
        objective = await info.context.loaders.objectives.load(objective_id)
        return None if objective is None else objective.graph.key_result(id)


async def read_objective(info: Info[Context, None], objective_id: UUID) -> Objective:
    """An objective as the read model has it right after a command (never a cached copy)."""
    async with info.context.read() as rows:
        cycle_id = (await okr_queries.cycles_of_objectives(rows, [objective_id])).get(objective_id)
        tree = (
            None
            if cycle_id is None
            else await okr_queries.cycle_tree(
                rows, cycle_id, now=info.context.now, include_archived=True
            )
        )
    found = None if tree is None else OkrGraph(tree).objective(objective_id)
    if found is None:
        raise LookupError(f"objective {objective_id} is not in the read model")
    return found


async def read_cycle(info: Info[Context, None], cycle_id: UUID) -> Cycle:
    """A cycle as the read model has it right after a command."""
    async with info.context.read() as rows:
        found = (await okr_queries.cycles_by_id(rows, [cycle_id])).get(cycle_id)
    if found is None:
        raise LookupError(f"cycle {cycle_id} is not in the read model")
    return Cycle.of(found)
