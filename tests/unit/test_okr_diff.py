"""The OKR tree diff between two snapshots, and replaying it (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okrledger.domain.errors import InvalidValue
from okrledger.domain.objective import MetricKind
from okrledger.projections.okr_diff import (
    Change,
    KeyResultState,
    ObjectiveState,
    OkrTreeDiff,
    TreeSnapshot,
    apply_diff,
    check_span,
    diff_trees,
)
from okrledger.projections.pages import AsOf


def an_objective(title: str = "Delight customers", parent: UUID | None = None) -> ObjectiveState:
    return ObjectiveState(uuid4(), title, parent, Decimal("0.2"), Decimal("0.2"))


def a_key_result(objective: ObjectiveState, current: str = "35") -> KeyResultState:
    return KeyResultState(
        uuid4(), objective.id, "Raise NPS", MetricKind.NUMBER, Decimal(31), Decimal(45),
        Decimal(1), Decimal(current), Decimal("0.2"),
    )  # fmt: skip


NOV_1, NOV_2 = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)


def snapshot(*items: ObjectiveState | KeyResultState) -> TreeSnapshot:
    return TreeSnapshot(
        {o.id: o for o in items if isinstance(o, ObjectiveState)},
        {k.id: k for k in items if isinstance(k, KeyResultState)},
    )


def test_two_equal_snapshots_differ_in_nothing() -> None:
    company = an_objective()
    tree = snapshot(company, a_key_result(company))

    assert diff_trees(tree, tree) == OkrTreeDiff()


def test_objectives_and_key_results_only_at_one_end_are_added_or_removed() -> None:
    kept, gone, new = an_objective("Kept"), an_objective("Gone"), an_objective("New")
    old_kr, new_kr = a_key_result(gone), a_key_result(new)

    diff = diff_trees(snapshot(kept, gone, old_kr), snapshot(kept, new, new_kr))

    assert (diff.added_objectives, diff.removed_objectives) == ((new,), (gone,))
    assert (diff.added_key_results, diff.removed_key_results) == ((new_kr,), (old_kr,))


def test_a_new_parent_is_a_realignment_from_the_old_parent() -> None:
    company, team = an_objective("Company"), an_objective("Team")

    diff = diff_trees(
        snapshot(company, team), snapshot(company, replace(team, parent_id=company.id))
    )

    [moved] = diff.realigned_objectives
    assert (moved.objective_id, moved.parent_id) == (team.id, Change(None, company.id))
    assert diff.retitled_objectives == ()


def test_a_new_title_is_a_retitling_from_the_old_title() -> None:
    team = an_objective("Old")

    diff = diff_trees(snapshot(team), snapshot(replace(team, title="New")))

    [renamed] = diff.retitled_objectives
    assert renamed.title == Change("Old", "New")


def test_a_redefined_key_result_lists_only_the_fields_that_changed() -> None:
    team = an_objective()
    kr = a_key_result(team)
    redefined = replace(kr, target=Decimal(40), metric=MetricKind.PERCENT)

    diff = diff_trees(snapshot(team, kr), snapshot(team, redefined))

    [revision] = diff.revised_key_results
    assert revision.target == Change(Decimal(45), Decimal(40))
    assert revision.metric == Change(MetricKind.NUMBER, MetricKind.PERCENT)
    assert (revision.title, revision.start, revision.weight) == (None, None, None)


def test_a_check_in_shows_as_value_and_progress_deltas_not_as_a_revision() -> None:
    team = an_objective()
    kr = a_key_result(team, current="35")
    later = replace(team, progress=Decimal("0.5"), rolled_up_progress=Decimal("0.5"))
    checked_in = replace(kr, current=Decimal(38), progress=Decimal("0.5"))

    diff = diff_trees(snapshot(team, kr), snapshot(later, checked_in))

    assert diff.revised_key_results == ()
    [kr_delta] = diff.key_result_progress
    assert kr_delta.current == Change(Decimal(35), Decimal(38))
    [objective_delta] = diff.objective_progress
    assert objective_delta.rolled_up_progress == Change(Decimal("0.2"), Decimal("0.5"))


def test_to_before_from_is_refused_for_positions_and_times() -> None:
    with pytest.raises(InvalidValue) as by_position:
        check_span(AsOf(position=9), AsOf(position=3))
    with pytest.raises(InvalidValue):
        check_span(AsOf(time=NOV_2), AsOf(time=NOV_1))

    assert by_position.value.field == "to"


def test_from_and_to_of_different_kinds_are_refused() -> None:
    with pytest.raises(InvalidValue, match="both as times or both as positions"):
        check_span(AsOf(position=1), AsOf(time=NOV_1))


def test_the_same_moment_at_both_ends_is_allowed() -> None:
    check_span(AsOf(position=4), AsOf(position=4))


IDS = [uuid4() for _ in range(6)]
amounts = st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1), Decimal(45)])
objective_states = st.builds(
    ObjectiveState,
    st.sampled_from(IDS),
    st.sampled_from(["A", "B"]),
    st.sampled_from([None, *IDS[:2]]),
    amounts,
    amounts,
)
key_result_states = st.builds(
    KeyResultState,
    st.sampled_from(IDS),
    st.sampled_from(IDS[:3]),
    st.sampled_from(["K", "L"]),
    st.sampled_from(list(MetricKind)),
    amounts,
    amounts,
    amounts,
    amounts,
    amounts,
)
snapshots = st.builds(
    TreeSnapshot,
    st.lists(objective_states, max_size=5).map(lambda os: {o.id: o for o in os}),
    st.lists(key_result_states, max_size=5).map(lambda ks: {k.id: k for k in ks}),
)


@given(before=snapshots, after=snapshots)
def test_applying_the_diff_to_the_earlier_snapshot_gives_the_later_one(
    before: TreeSnapshot, after: TreeSnapshot
) -> None:
    assert apply_diff(before, diff_trees(before, after)) == after
