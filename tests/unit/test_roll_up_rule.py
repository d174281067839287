"""Which children count towards a parent's progress, and how the parts combine (no I/O)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okrledger.domain.objective import ObjectiveStatus
from okrledger.domain.roll_up import counts_toward_parent, excluded_because, rolled_up_progress


@pytest.mark.parametrize("status", [ObjectiveStatus.ACTIVE, ObjectiveStatus.CLOSED])
def test_committed_objectives_count_towards_their_parent(status: ObjectiveStatus) -> None:
    assert counts_toward_parent(status)
    assert excluded_because(status) is None


@pytest.mark.parametrize("status", [ObjectiveStatus.DRAFT, ObjectiveStatus.ARCHIVED])
def test_drafts_and_archived_objectives_are_left_out_with_a_reason(
    status: ObjectiveStatus,
) -> None:
    assert not counts_toward_parent(status)
    assert excluded_because(status)


def test_own_progress_and_childrens_are_equally_weighted() -> None:
    children, rolled = rolled_up_progress(Decimal("0.2"), True, [Decimal("1"), Decimal("0.6")])
    assert (children, rolled) == (Decimal("0.8"), Decimal("0.5"))


def test_without_key_results_an_objective_is_its_childrens_mean() -> None:
    assert rolled_up_progress(Decimal(0), False, [Decimal("0.4")]) == (
        Decimal("0.4"),
        Decimal("0.4"),
    )


def test_without_counted_children_an_objective_is_its_own_progress() -> None:
    assert rolled_up_progress(Decimal("0.7"), True, []) == (None, Decimal("0.7"))


@given(
    st.decimals(0, 1, places=3),
    st.booleans(),
    st.lists(st.decimals(0, 1, places=3), max_size=10),
)
def test_rolled_up_progress_stays_between_the_lowest_and_highest_part(
    own: Decimal, has_key_results: bool, children: list[Decimal]
) -> None:
    _, rolled = rolled_up_progress(own, has_key_results, children)
    parts = ([own] if has_key_results or not children else []) + children
    assert min(parts) <= rolled <= max(parts)
