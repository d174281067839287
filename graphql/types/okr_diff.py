"""What changed in a cycle's OKR tree between two moments, as clients see it."""

from __future__ import annotations

from decimal import Decimal
from typing import Self
from uuid import UUID

import strawberry

from okrledger.domain.objective import MetricKind
from okrledger.domain.values import fraction
from okrledger.graphql.types.cycle import Cycle
from okrledger.projections import okr_diff
from okrledger.projections.okr_diff import Change


@strawberry.type(description="A number at the earlier moment and at the later one.")
class DecimalChange:
    from_: Decimal = strawberry.field(name="from")
    to: Decimal

    @classmethod
    def of(cls, change: Change[Decimal]) -> Self:
        return cls(from_=change.before, to=change.after)

    @classmethod
    def of_fraction(cls, change: Change[Decimal]) -> Self:
        """A progress change, both ends shown as fractions (domain/values.py)."""
        return cls(from_=fraction(change.before), to=fraction(change.after))


@strawberry.type(description="A text at the earlier moment and at the later one.")
class TextChange:
    from_: str = strawberry.field(name="from")
    to: str


@strawberry.type(description="A parent objective at the earlier moment and at the later one.")
class ParentChange:
    from_: UUID | None = strawberry.field(name="from", description="Null: it was a root.")
    to: UUID | None = strawberry.field(description="Null: it is a root.")


@strawberry.type(description="A metric kind at the earlier moment and at the later one.")
class MetricChange:
    from_: MetricKind = strawberry.field(name="from")
    to: MetricKind


@strawberry.type(description="An objective as it was at one end of the diff.")
class ObjectiveSnapshot:
    id: UUID
    title: str
    parent_id: UUID | None
    progress: Decimal = strawberry.field(description="Its own, from its key results.")
    rolled_up_progress: Decimal

    @classmethod
    def of(cls, state: okr_diff.ObjectiveState) -> Self:
        return cls(
            id=state.id,
            title=state.title,
            parent_id=state.parent_id,
            progress=fraction(state.progress),
            rolled_up_progress=fraction(state.rolled_up_progress),
        )


@strawberry.type(description="A key result as it was at one end of the diff.")
class KeyResultSnapshot:
    id: UUID
    objective_id: UUID
    title: str
    metric: MetricKind
    start: Decimal
    target: Decimal
    weight: Decimal
    current: Decimal
    progress: Decimal

    @classmethod
    def of(cls, state: okr_diff.KeyResultState) -> Self:
        return cls(
            id=state.id,
            objective_id=state.objective_id,
            title=state.title,
            metric=state.metric,
            start=state.start,
            target=state.target,
            weight=state.weight,
            current=state.current,
            progress=fraction(state.progress),
        )


@strawberry.type(description="An objective aligned under another parent (or none).")
class ObjectiveRealigned:
    objective_id: UUID
    title: str = strawberry.field(description="Its title at the later moment.")
    parent_id: ParentChange


@strawberry.type(description="An objective given another title.")
class ObjectiveRetitled:
    objective_id: UUID
    title: TextChange


@strawberry.type(description="A key result's definition changed; unchanged fields are null.")
class KeyResultRevision:
    key_result_id: UUID
    objective_id: UUID
    title: TextChange | None
    metric: MetricChange | None
    start: DecimalChange | None
    target: DecimalChange | None
    weight: DecimalChange | None

    @classmethod
    def of(cls, revision: okr_diff.KeyResultRevision) -> Self:
        title, metric = revision.title, revision.metric
        return cls(
            key_result_id=revision.key_result_id,
            objective_id=revision.objective_id,
            title=None if title is None else TextChange(from_=title.before, to=title.after),
            metric=None if metric is None else MetricChange(from_=metric.before, to=metric.after),
            start=None if revision.start is None else DecimalChange.of(revision.start),
            target=None if revision.target is None else DecimalChange.of(revision.target),
            weight=None if revision.weight is None else DecimalChange.of(revision.weight),
        )


@strawberry.type(description="An objective's progress at the earlier moment and the later one.")
class ObjectiveProgressDelta:
    objective_id: UUID
    title: str
    progress: DecimalChange = strawberry.field(description="Its own, from its key results.")
    rolled_up_progress: DecimalChange


@strawberry.type(description="A key result's value and progress at both moments.")
class KeyResultProgressDelta:
    key_result_id: UUID
    objective_id: UUID
    title: str
    current: DecimalChange
    progress: DecimalChange


@strawberry.type(
    description="What changed in a cycle's OKR tree between two moments. Archived objectives "
    "are not in the tree: archiving one removes it (and its key results), restoring adds it."
)
class OkrTreeDiff:
    cycle: Cycle = strawberry.field(description="The cycle as it was at the later moment.")
    added_objectives: list[ObjectiveSnapshot]
    removed_objectives: list[ObjectiveSnapshot] = strawberry.field(
        description="As they were at the earlier moment."
    )
    realigned_objectives: list[ObjectiveRealigned]
    retitled_objectives: list[ObjectiveRetitled]
    added_key_results: list[KeyResultSnapshot]
    removed_key_results: list[KeyResultSnapshot] = strawberry.field(
        description="As they were at the earlier moment."
    )
    revised_key_results: list[KeyResultRevision] = strawberry.field(
        description="Title, metric kind, start, target or weight changed."
    )
    objective_progress: list[ObjectiveProgressDelta] = strawberry.field(
        description="Objectives in both trees whose own or rolled-up progress changed."
    )
    key_result_progress: list[KeyResultProgressDelta] = strawberry.field(
        description="Key results in both trees whose value or progress changed."
    )

    @classmethod
    def of(cls, cycle: Cycle, diff: okr_diff.OkrTreeDiff) -> Self:
        return cls(
            cycle=cycle,
            added_objectives=[ObjectiveSnapshot.of(o) for o in diff.added_objectives],
            removed_objectives=[ObjectiveSnapshot.of(o) for o in diff.removed_objectives],
            realigned_objectives=[
                ObjectiveRealigned(
                    objective_id=r.objective_id,
                    title=r.title,
                    parent_id=ParentChange(from_=r.parent_id.before, to=r.parent_id.after),
                )
                for r in diff.realigned_objectives
            ],
            retitled_objectives=[
                ObjectiveRetitled(
                    objective_id=r.objective_id,
                    title=TextChange(from_=r.title.before, to=r.title.after),
                )
                for r in diff.retitled_objectives
            ],
            added_key_results=[KeyResultSnapshot.of(k) for k in diff.added_key_results],
            removed_key_results=[KeyResultSnapshot.of(k) for k in diff.removed_key_results],
            revised_key_results=[KeyResultRevision.of(r) for r in diff.revised_key_results],
            objective_progress=[
                ObjectiveProgressDelta(
                    objective_id=p.objective_id,
                    title=p.title,
                    progress=DecimalChange.of_fraction(p.progress),
                    rolled_up_progress=DecimalChange.of_fraction(p.rolled_up_progress),
                )
                for p in diff.objective_progress
            ],
            key_result_progress=[
                KeyResultProgressDelta(
                    key_result_id=p.key_result_id,
                    objective_id=p.objective_id,
                    title=p.title,
                    current=DecimalChange.of(p.current),
                    progress=DecimalChange.of_fraction(p.progress),
                )
                for p in diff.key_result_progress
            ],
        )
