"""Contributions to a weighted mean: shares of it that add up to it to the last digit."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from okrledger.domain.objective import MetricKind
from okrledger.domain.progress import (
    contributions,
    key_result_progress,
    weight_shares,
    weighted_progress,
)

D = Decimal

# Progress as key results produce it: (current - start) / (target - start), clamped.
progress = st.builds(
    lambda start, span, step: key_result_progress(
        MetricKind.NUMBER, D(start), D(start) + D(span), D(start) + D(step) / D(7)
    ),
    st.integers(-1000, 1000),
    st.integers(1, 10**9),
    st.integers(-10, 10**10),
)
weight = st.sampled_from([D("1"), D("2"), D("3"), D("0.5"), D("1.25"), D("0.333"), D("7")])


@given(st.lists(st.tuples(progress, weight), min_size=1, max_size=8))
def test_contributions_added_in_order_equal_the_weighted_progress_exactly(
    parts: list[tuple[Decimal, Decimal]],
) -> None:
    assert sum(contributions(parts), D(0)) == weighted_progress(parts)


@given(st.lists(st.tuples(progress, weight), min_size=1, max_size=8))
def test_each_contribution_is_its_weight_share_times_its_progress(
    parts: list[tuple[Decimal, Decimal]],
) -> None:
    shares = weight_shares(w for _, w in parts)
    for (value, _), share, contribution in zip(parts, shares, contributions(parts), strict=True):
        assert abs(contribution - share * value) < D("1e-26")


def test_three_complete_thirds_contribute_to_exactly_one() -> None:
    parts = [(D(1), D(1))] * 3

    assert weighted_progress(parts) == 1
    assert sum(contributions(parts), D(0)) == 1


def test_no_parts_contribute_nothing() -> None:
    assert contributions([]) == []
    assert weighted_progress([]) == 0
