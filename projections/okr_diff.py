"""What changed in a cycle's OKR tree between two moments: the business review's report.

Pure: two snapshots of the tree (read with the as-of reads) in, a diff out.
`apply_diff` replays a diff onto the earlier snapshot; that it gives the later
snapshot back is what shows the diff leaves nothing out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Generic, TypeVar
from uuid import UUID

from okrledger.domain.errors import InvalidValue
from okrledger.domain.objective import MetricKind
from okrledger.projections.okr_queries import OkrTreeView
from okrledger.projections.pages import AsOf

T = TypeVar("T")


@dataclass(frozen=True)
class ObjectiveState:
    id: UUID
    title: str
    parent_id: UUID | None
    progress: Decimal
    rolled_up_progress: Decimal


@dataclass(frozen=True)
class KeyResultState:
    id: UUID
    objective_id: UUID
    title: str
    metric: MetricKind
    start: Decimal
    target: Decimal
    weight: Decimal
    current: Decimal
    progress: Decimal


@dataclass(frozen=True)
class TreeSnapshot:
    """A cycle's tree at one moment, keyed by id (depth-first order kept for reports)."""

    objectives: Mapping[UUID, ObjectiveState]
    key_results: Mapping[UUID, KeyResultState]

    @classmethod
    def of(cls, tree: OkrTreeView | None) -> TreeSnapshot:
        """The snapshot of a tree read; a cycle that did not exist yet is an empty tree."""
        if tree is None:
            return cls({}, {})
        objectives = {
            o.id: ObjectiveState(
                o.id,
                o.objective.title,
                o.objective.parent_id,
                o.objective.progress,
                o.rolled_up_progress,
            )
            for o in tree.objectives
        }
        key_results = {
            k.id: KeyResultState(
                k.id,
                k.objective_id,
                k.title,
                k.metric,
                k.start,
                k.target,
                k.weight,
                k.current,
                k.progress,
            )
            for o in tree.objectives
            for k in o.key_results
        }
        return cls(objectives, key_results)


@dataclass(frozen=True)
class Change(Generic[T]):
    before: T
    after: T


@dataclass(frozen=True)
class Realignment:
    objective_id: UUID
    title: str
    parent_id: Change[UUID | None]


@dataclass(frozen=True)
class Retitling:
    objective_id: UUID
    title: Change[str]


@dataclass(frozen=True)
class KeyResultRevision:
    """A key result's definition changed; a field that did not change is None."""

    key_result_id: UUID
    objective_id: UUID
    title: Change[str] | None = None
    metric: Change[MetricKind] | None = None
    start: Change[Decimal] | None = None
    target: Change[Decimal] | None = None
    weight: Change[Decimal] | None = None


@dataclass(frozen=True)
class ObjectiveProgress:
    objective_id: UUID
    title: str
    progress: Change[Decimal]
    rolled_up_progress: Change[Decimal]


@dataclass(frozen=True)
class KeyResultProgress:
    key_result_id: UUID
    objective_id: UUID
    title: str
    current: Change[Decimal]
    progress: Change[Decimal]


@dataclass(frozen=True)
class OkrTreeDiff:
    """Everything that differs between two snapshots; lists follow the later tree's order
    (removals the earlier one's)."""

    added_objectives: tuple[ObjectiveState, ...] = ()
    removed_objectives: tuple[ObjectiveState, ...] = ()
    realigned_objectives: tuple[Realignment, ...] = ()
    retitled_objectives: tuple[Retitling, ...] = ()
    added_key_results: tuple[KeyResultState, ...] = ()
    removed_key_results: tuple[KeyResultState, ...] = ()
    revised_key_results: tuple[KeyResultRevision, ...] = ()
    objective_progress: tuple[ObjectiveProgress, ...] = ()
    key_result_progress: tuple[KeyResultProgress, ...] = ()


def check_span(start: AsOf, end: AsOf) -> None:
    """Both ends are the same kind of moment, and the end is not before the start."""
    if (start.position is None) != (end.position is None):
        raise InvalidValue("Give from and to both as times or both as positions", field="to")
    if start.position is not None and end.position is not None and end.position < start.position:
        raise InvalidValue(f"to ({end.position}) is before from ({start.position})", field="to")
    if start.time is not None and end.time is not None and end.time < start.time:
        raise InvalidValue(
            f"to ({end.time.isoformat()}) is before from ({start.time.isoformat()})", field="to"
        )


def _change(before: T, after: T) -> Change[T] | None:
    return None if before == after else Change(before, after)


def diff_trees(before: TreeSnapshot, after: TreeSnapshot) -> OkrTreeDiff:
    """What changed from `before` to `after`."""
    kept = [
        (before.objectives[i], o) for i, o in after.objectives.items() if i in before.objectives
    ]
    # Key results never move between objectives; one that did would be removed and added.
    moved = {
        i
        for i, k in after.key_results.items()
        if i in before.key_results and before.key_results[i].objective_id != k.objective_id
    }
    kept_krs = [
        (before.key_results[i], k)
        for i, k in after.key_results.items()
        if i in before.key_results and i not in moved
    ]
    return OkrTreeDiff(
        added_objectives=_missing(after.objectives, before.objectives),
        removed_objectives=_missing(before.objectives, after.objectives),
        realigned_objectives=tuple(
            Realignment(new.id, new.title, Change(old.parent_id, new.parent_id))
            for old, new in kept
            if old.parent_id != new.parent_id
        ),
        retitled_objectives=tuple(
            Retitling(new.id, Change(old.title, new.title))
            for old, new in kept
            if old.title != new.title
        ),
        added_key_results=_missing(after.key_results, before.key_results, moved),
        removed_key_results=_missing(before.key_results, after.key_results, moved),
        revised_key_results=tuple(r for old, new in kept_krs if (r := _revision(old, new))),
        objective_progress=tuple(
            ObjectiveProgress(
                new.id,
                new.title,
                Change(old.progress, new.progress),
                Change(old.rolled_up_progress, new.rolled_up_progress),
            )
            for old, new in kept
            if (old.progress, old.rolled_up_progress) != (new.progress, new.rolled_up_progress)
        ),
        key_result_progress=tuple(
            KeyResultProgress(
                new.id,
                new.objective_id,
                new.title,
                Change(old.current, new.current),
                Change(old.progress, new.progress),
            )
            for old, new in kept_krs
            if (old.current, old.progress) != (new.current, new.progress)
        ),
    )


def _missing(
    these: Mapping[UUID, T], others: Mapping[UUID, T], also: Set[UUID] = frozenset()
) -> tuple[T, ...]:
    return tuple(v for k, v in these.items() if k not in others or k in also)


def _revision(old: KeyResultState, new: KeyResultState) -> KeyResultRevision | None:
    revision = KeyResultRevision(
        new.id,
        new.objective_id,
        title=_change(old.title, new.title),
        metric=_change(old.metric, new.metric),
        start=_change(old.start, new.start),
        target=_change(old.target, new.target),
        weight=_change(old.weight, new.weight),
    )
    return None if revision == KeyResultRevision(new.id, new.objective_id) else revision


def apply_diff(before: TreeSnapshot, diff: OkrTreeDiff) -> TreeSnapshot:
    """The snapshot `diff` leads to from `before`."""
    objectives = _without(before.objectives, diff.removed_objectives)
    objectives.update((o.id, o) for o in diff.added_objectives)
    for moved in diff.realigned_objectives:
        objectives[moved.objective_id] = replace(
            objectives[moved.objective_id], parent_id=moved.parent_id.after
        )
    for renamed in diff.retitled_objectives:
        objectives[renamed.objective_id] = replace(
            objectives[renamed.objective_id], title=renamed.title.after
        )
    for p in diff.objective_progress:
        objectives[p.objective_id] = replace(
            objectives[p.objective_id],
            progress=p.progress.after,
            rolled_up_progress=p.rolled_up_progress.after,
        )

    key_results = _without(before.key_results, diff.removed_key_results)
    key_results.update((k.id, k) for k in diff.added_key_results)
    for r in diff.revised_key_results:
        old = key_results[r.key_result_id]
        key_results[r.key_result_id] = replace(
            old,
            title=old.title if r.title is None else r.title.after,
            metric=old.metric if r.metric is None else r.metric.after,
            start=old.start if r.start is None else r.start.after,
            target=old.target if r.target is None else r.target.after,
            weight=old.weight if r.weight is None else r.weight.after,
        )
    for k in diff.key_result_progress:
        key_results[k.key_result_id] = replace(
            key_results[k.key_result_id], current=k.current.after, progress=k.progress.after
        )
    return TreeSnapshot(objectives, key_results)


def _without(
    these: Mapping[UUID, T], removed: Iterable[ObjectiveState | KeyResultState]
) -> dict[UUID, T]:
    gone = {r.id for r in removed}
    return {k: v for k, v in these.items() if k not in gone}
