"""Objectives and key results as clients see them, read from the OKR tree read model.

Every `Objective` belongs to the `OkrGraph` of its cycle's tree (now, or as of a past
moment), so children, key results, parent and cycle resolve without another query,
and every leaf field is a plain attribute (no resolver call per field).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID
from weakref import WeakValueDictionary

import strawberry
from strawberry.types import Info

from okrledger.domain.objective import Confidence, MetricKind, ObjectiveStatus
from okrledger.domain.progress import PaceStatus
from okrledger.domain.values import fraction
from okrledger.graphql.context import Context
from okrledger.graphql.permissions import CanReadHistory
from okrledger.graphql.queries.common import AFTER, DEFAULT_PAGE, PAGE_SIZE
from okrledger.graphql.queries.history import stream_history
from okrledger.graphql.types.cycle import Cycle
from okrledger.graphql.types.history import ChangeEntry, HistoryOrder
from okrledger.graphql.types.pages import Connection
from okrledger.graphql.types.progress_explanation import ProgressExplanationView
from okrledger.projections import progress_explanation
from okrledger.projections.okr_queries import KeyResultView, ObjectiveView, OkrTreeView
from okrledger.projections.pages import AsOf

strawberry.enum(MetricKind, description="How a key result is measured.")
strawberry.enum(Confidence, description="How likely the owner thinks the target is.")
strawberry.enum(ObjectiveStatus, description="Where an objective is in its lifecycle.")
strawberry.enum(PaceStatus, description="Progress against the time elapsed in the cycle.")


@strawberry.type(description="A specific, measurable result that shows an objective is met.")
class KeyResult:
    id: UUID
    objective_id: UUID
    title: str
    metric: MetricKind
    start: Decimal
    target: Decimal
    current: Decimal = strawberry.field(description="The latest checked-in (or KPI) value.")
    weight: Decimal = strawberry.field(description="Its share in the objective's progress.")
    unit: str
    currency: str | None = strawberry.field(description="ISO 4217 code of a currency metric.")
    confidence: Confidence | None
    note: str = strawberry.field(description="The note of the latest check-in.")
    kpi_id: UUID | None = strawberry.field(description="The KPI that drives its value, if any.")
    progress: Decimal = strawberry.field(description="From start to target, 0 to 1.")
    last_check_in_at: datetime | None
    last_check_in_by: str | None
    last_reading_observed_at: datetime | None = strawberry.field(
        description="When the linked KPI's latest reading was observed."
    )
    added_at: datetime
    updated_at: datetime
    graph: strawberry.Private[OkrGraph]

    @strawberry.field(description="The objective it measures.")
    def objective(self) -> Objective:
        found = self.graph.objective(self.objective_id)
        assert found is not None, "a key result's objective is in its tree"
        return found


@strawberry.type(description="A qualitative, inspiring goal for a cycle.")
class Objective:
    id: UUID
    cycle_id: UUID
    title: str
    description: str
    owner: str = strawberry.field(description="A person or a team.")
    team: str | None
    parent_id: UUID | None = strawberry.field(
        description="The objective this one is aligned under, if any."
    )
    status: ObjectiveStatus
    score: Decimal | None = strawberry.field(description="The grade, 0.0 to 1.0, once graded.")
    retrospective: str
    version: int = strawberry.field(description="Send it back as expectedVersion.")
    created_at: datetime
    updated_at: datetime
    progress: Decimal = strawberry.field(
        description="Its own progress, 0 to 1: the weighted mean of its key results'."
    )
    children_progress: Decimal | None = strawberry.field(
        description="The mean rolled-up progress of its (unarchived) children, if any."
    )
    rolled_up_progress: Decimal = strawberry.field(
        description="Its own progress and its children's together, 0 to 1."
    )
    pace: PaceStatus = strawberry.field(
        description="Rolled-up progress judged against the time elapsed in the cycle."
    )
    key_result_count: int
    key_results: list[KeyResult]
    cycle: Cycle
    graph: strawberry.Private[OkrGraph]
    child_ids: strawberry.Private[tuple[UUID, ...]]

    @strawberry.field(description="The objectives aligned under this one in the same cycle.")
    def children(self) -> list[Objective]:
        return [c for c in map(self.graph.objective, self.child_ids) if c is not None]

    @strawberry.field(
        description="The objective this one is aligned under (as it is now if in another cycle)."
    )
    async def parent(self, info: Info[Context, None]) -> Objective | None:
        if self.parent_id is None:
            return None
        return self.graph.objective(self.parent_id) or await info.context.loaders.objectives.load(
            self.parent_id
        )

    @strawberry.field(
        description="Everything that happened to this objective and its key results.",
        permission_classes=[CanReadHistory],
    )
    async def history(
        self,
        info: Info[Context, None],
        first: Annotated[int, PAGE_SIZE] = DEFAULT_PAGE,
        after: Annotated[str | None, AFTER] = None,
        order: HistoryOrder = HistoryOrder.NEWEST_FIRST,
    ) -> Connection[ChangeEntry]:
        return await stream_history(info, self.id, first=first, after=after, order=order)

    @strawberry.field(
        description="How progress and rolledUpProgress come about: the formula, each key "
        "result's weight, share, progress and contribution (with the KPI reading that set a "
        "linked one), and each child's share; as of the same moment as this objective."
    )
    async def progress_explanation(self, info: Info[Context, None]) -> ProgressExplanationView:
        view = self.graph.view(self.id)
        assert view is not None, "an objective is in its tree"
        async with info.context.read() as rows:
            explained = await progress_explanation.explain(rows, self.graph.tree, view)
        return ProgressExplanationView.of(explained)


class OkrGraph:
    """The GraphQL objects of one cycle's tree, each built once and shared."""

    def __init__(self, tree: OkrTreeView) -> None:
        self.tree = tree
        self.cycle = Cycle.of(tree.cycle)
        self._views = {o.id: o for o in tree.objectives}
        # Held weakly: each objective holds its graph, and a cycle back to it would leave a
        # whole tree (thousands of objects) to the cycle collector rather than freed at once.
        self._built: WeakValueDictionary[UUID, Objective] = WeakValueDictionary()

    @property
    def as_of(self) -> AsOf | None:
        return self.tree.as_of

    def roots(self) -> list[Objective]:
        return [self._build(o) for o in self.tree.roots()]

    def view(self, objective_id: UUID) -> ObjectiveView | None:
        return self._views.get(objective_id)

    def objective(self, objective_id: UUID) -> Objective | None:
        view = self._views.get(objective_id)
        return None if view is None else self._build(view)

    def key_result(self, key_result_id: UUID) -> KeyResult | None:
        for view in self.tree.objectives:
            for kr in view.key_results:
                if kr.id == key_result_id:
                    built = self._build(view)
                    return next(k for k in built.key_results if k.id == key_result_id)
        return None

    def _build(self, view: ObjectiveView) -> Objective:
        built = self._built.get(view.id)
        if built is None:
            built = self._built[view.id] = self._objective(view)
        return built

    def _objective(self, view: ObjectiveView) -> Objective:
        # Filled at once rather than through the dataclass's __init__: a big tree has
        # thousands of these, and keyword arguments are most of what building one costs.
        s = view.objective
        built = object.__new__(Objective)
        built.__dict__.update(
            id=s.id,
            cycle_id=s.cycle_id,
            title=s.title,
            description=s.description,
            owner=s.owner,
            team=s.team,
            parent_id=s.parent_id,
            status=s.status,
            score=None if s.grade is None else fraction(s.grade),
            retrospective=s.retrospective,
            version=s.version,
            created_at=s.created_at,
            updated_at=s.updated_at,
            progress=fraction(s.progress),
            children_progress=None
            if view.children_progress is None
            else fraction(view.children_progress),
            rolled_up_progress=fraction(view.rolled_up_progress),
            pace=view.pace,
            key_result_count=s.key_result_count,
            key_results=[self._key_result(k) for k in view.key_results],
            cycle=self.cycle,
            graph=self,
            child_ids=view.child_ids,
        )
        return built

    def _key_result(self, k: KeyResultView) -> KeyResult:
        built = object.__new__(KeyResult)
        values = built.__dict__
        values.update(k.__dict__)
        del values["last_reading_id"]  # not a field of the GraphQL type
        values["progress"] = fraction(k.progress)
        values["graph"] = self
        return built
