"""A key result follows only a KPI that wants the same direction (no I/O)."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from okrledger.domain.kpi_direction import DirectionMismatch, check_same_direction
from okrledger.domain.kpi_health import Direction
from okrledger.domain.objective import KeyResult, MetricKind


def key_result(start: str, target: str) -> KeyResult:
    return KeyResult(
        id=uuid4(),
        title="Churn",
        metric=MetricKind.PERCENT,
        start=Decimal(start),
        target=Decimal(target),
        current=Decimal(start),
        weight=Decimal(1),
    )


@pytest.mark.parametrize(
    ("start", "target", "direction"),
    [("2", "5", Direction.LOWER_IS_BETTER), ("5", "2", Direction.HIGHER_IS_BETTER)],
)
def test_a_key_result_and_a_kpi_wanting_opposite_ways_are_refused(
    start: str, target: str, direction: Direction
) -> None:
    with pytest.raises(DirectionMismatch) as refused:
        check_same_direction(key_result(start, target), "Churn", direction)

    assert (refused.value.code, refused.value.field) == ("DIRECTION_MISMATCH", "kpi_id")
    assert "Churn" in refused.value.message


@pytest.mark.parametrize(
    ("start", "target", "direction"),
    [("2", "5", Direction.HIGHER_IS_BETTER), ("5", "2", Direction.LOWER_IS_BETTER)],
)
def test_a_key_result_and_a_kpi_wanting_the_same_way_agree(
    start: str, target: str, direction: Direction
) -> None:
    check_same_direction(key_result(start, target), "Churn", direction)
