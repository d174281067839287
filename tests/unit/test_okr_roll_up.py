"""Roll-up and pace over a cycle's objectives, computed at read time (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from okrledger.domain.objective import ObjectiveStatus
from okrledger.domain.progress import PaceStatus
from okrledger.projections.okr_queries import CycleView, ObjectiveSummary, roll_up

T = datetime(2026, 10, 1, tzinfo=UTC)
CYCLE = CycleView(uuid4(), "2026-Q4", date(2026, 10, 1), date(2026, 12, 31), False, 1, T, T)


def objective(
    progress: str,
    parent: UUID | None = None,
    *,
    key_results: int = 1,
    status: ObjectiveStatus = ObjectiveStatus.ACTIVE,
) -> ObjectiveSummary:
    return ObjectiveSummary(
        uuid4(), CYCLE.id, parent, "t", "", "o", None, status, None, "", 1,
        Decimal(progress), key_results, T, T,
    )  # fmt: skip


def test_an_objective_without_children_rolls_up_to_its_own_progress() -> None:
    alone = objective("0.4")
    (view,) = roll_up(CYCLE, [alone], [], T)
    assert (view.rolled_up_progress, view.children_progress) == (Decimal("0.4"), None)


def test_progress_rolls_up_through_grandchildren() -> None:
    top = objective("0", key_results=0)
    middle = objective("0.2", top.id)
    leaf = objective("1", middle.id)

    views = {v.id: v for v in roll_up(CYCLE, [top, middle, leaf], [], T)}

    assert views[middle.id].rolled_up_progress == Decimal("0.6")
    assert views[top.id].rolled_up_progress == Decimal("0.6")
    assert views[top.id].children_progress == Decimal("0.6")


def test_an_archived_child_is_listed_but_not_counted() -> None:
    top = objective("0.5")
    kept = objective("0.5", top.id)
    archived = objective("1", top.id, status=ObjectiveStatus.ARCHIVED)

    views = {v.id: v for v in roll_up(CYCLE, [top, kept, archived], [], T)}

    assert views[top.id].child_ids == (kept.id, archived.id)
    assert views[top.id].rolled_up_progress == Decimal("0.5")


def test_a_draft_child_is_listed_but_not_counted() -> None:
    top = objective("0.709", key_results=0)
    active = objective("0.709", top.id)
    draft = objective("0", top.id, key_results=0, status=ObjectiveStatus.DRAFT)

    views = {v.id: v for v in roll_up(CYCLE, [top, active, draft], [], T)}

    assert views[top.id].child_ids == (active.id, draft.id)
    assert views[top.id].counted_child_ids == (active.id,)
    assert views[top.id].rolled_up_progress == Decimal("0.709")


def test_a_closed_child_still_counts() -> None:
    top = objective("0", key_results=0)
    closed = objective("0.8", top.id, status=ObjectiveStatus.CLOSED)

    views = {v.id: v for v in roll_up(CYCLE, [top, closed], [], T)}

    assert views[top.id].rolled_up_progress == Decimal("0.8")


def test_a_parent_whose_children_are_all_drafts_rolls_up_to_its_own_progress() -> None:
    top = objective("0.3")
    draft = objective("1", top.id, status=ObjectiveStatus.DRAFT)

    views = {v.id: v for v in roll_up(CYCLE, [top, draft], [], T)}

    assert (views[top.id].children_progress, views[top.id].rolled_up_progress) == (
        None,
        Decimal("0.3"),
    )


def test_a_child_whose_parent_is_outside_the_cycle_is_a_root() -> None:
    child = objective("0.3", uuid4())
    (view,) = roll_up(CYCLE, [child], [], T)
    assert view.id == child.id


def test_pace_is_judged_on_rolled_up_progress() -> None:
    top = objective("0", key_results=0)
    child = objective("0.9", top.id)
    near_the_end = datetime(2026, 12, 20, tzinfo=UTC)

    views = {v.id: v for v in roll_up(CYCLE, [top, child], [], near_the_end)}

    assert views[top.id].pace is PaceStatus.ON_TRACK


@given(st.lists(st.integers(0, 30), max_size=30), st.lists(st.integers(0, 10), max_size=30))
def test_every_objective_appears_once_and_after_its_parent(
    parents: list[int], progress: list[int]
) -> None:
    summaries: list[ObjectiveSummary] = []
    for i, (p, value) in enumerate(zip(parents, progress, strict=False)):
        parent = summaries[p % i].id if i and p % 3 else None
        summaries.append(objective(str(Decimal(value) / 10), parent))

    views = roll_up(CYCLE, summaries, [], T)

    order = [v.id for v in views]
    assert sorted(order) == sorted(s.id for s in summaries)
    for s in summaries:
        if s.parent_id is not None:
            assert order.index(s.parent_id) < order.index(s.id)
    assert all(Decimal(0) <= v.rolled_up_progress <= Decimal(1) for v in views)


@given(
    st.lists(st.integers(0, 30), max_size=25),
    st.lists(st.integers(0, 10), max_size=25),
    st.lists(st.sampled_from(list(ObjectiveStatus)), max_size=25),
)
def test_drafts_and_archived_goals_never_move_the_roll_up_of_the_goals_that_count(
    parents: list[int], progress: list[int], statuses: list[ObjectiveStatus]
) -> None:
    summaries: list[ObjectiveSummary] = []
    for i, (p, value, status) in enumerate(zip(parents, progress, statuses, strict=False)):
        parent = summaries[p % i].id if i and p % 3 else None
        summaries.append(objective(str(Decimal(value) / 10), parent, status=status))
    # What is left without the goals that do not count, and everything under them.
    left_out = {s.id for s in summaries if s.status in (ObjectiveStatus.DRAFT,
                                                        ObjectiveStatus.ARCHIVED)}  # fmt: skip
    for s in summaries:  # parents come first, so a subtree is marked top down
        if s.parent_id in left_out:
            left_out.add(s.id)
    counted = [s for s in summaries if s.id not in left_out]
    roots_left_out = {s.id for s in summaries if s.id in left_out and s.parent_id not in left_out}

    everything = {v.id: v for v in roll_up(CYCLE, summaries, [], T)}
    only_counted = {v.id: v for v in roll_up(CYCLE, counted, [], T)}

    for objective_id, view in only_counted.items():
        assert everything[objective_id].rolled_up_progress == view.rolled_up_progress
        assert not roots_left_out & set(everything[objective_id].counted_child_ids)
