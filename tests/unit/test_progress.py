from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from okrledger.domain.errors import InvalidValue
from okrledger.domain.objective import KeyResult, MetricKind
from okrledger.domain.progress import (
    AHEAD_MARGIN,
    AT_RISK_TOLERANCE,
    ON_TRACK_TOLERANCE,
    PaceStatus,
    elapsed_fraction,
    key_result_progress,
    objective_progress,
    pace,
    pace_for,
    weighted_progress,
)

D = Decimal
STARTS, ENDS = date(2026, 10, 1), date(2026, 12, 31)  # 92 days


def kr(start: str, target: str, current: str, weight: str = "1") -> KeyResult:
    return KeyResult(
        id=uuid4(),
        title="KR",
        metric=MetricKind.NUMBER,
        start=D(start),
        target=D(target),
        current=D(current),
        weight=D(weight),
    )


@pytest.mark.parametrize(
    ("start", "target", "current", "expected"),
    [
        ("4", "8", "6", "0.5"),
        ("0", "15", "3", "0.2"),
        ("31", "45", "31", "0"),
        ("31", "45", "50", "1"),  # beyond target: clamped
        ("31", "45", "20", "0"),  # fell back: clamped
        ("10", "2", "6", "0.5"),  # lower is better
        ("10", "2", "1", "1"),
    ],
)
def test_numeric_progress_is_the_share_of_the_way_from_start_to_target(
    start: str, target: str, current: str, expected: str
) -> None:
    assert key_result_progress(MetricKind.NUMBER, D(start), D(target), D(current)) == D(expected)


@pytest.mark.parametrize("metric", [MetricKind.BOOLEAN, MetricKind.MILESTONE])
def test_yes_no_and_milestones_are_all_or_nothing(metric: MetricKind) -> None:
    assert key_result_progress(metric, D(0), D(1), D(0)) == 0
    assert key_result_progress(metric, D(0), D(1), D(1)) == 1
    assert key_result_progress(metric, D(0), D(5), D(4)) == 0
    assert key_result_progress(metric, D(5), D(0), D(0)) == 1


def test_progress_is_a_decimal() -> None:
    assert isinstance(key_result_progress(MetricKind.PERCENT, D(0), D(3), D(1)), Decimal)


def test_objective_progress_is_the_weighted_mean_of_its_key_results() -> None:
    key_results = [kr("0", "10", "10", weight="3"), kr("0", "10", "0", weight="1")]

    assert objective_progress(key_results) == D("0.75")


def test_objective_without_key_results_has_no_progress() -> None:
    assert objective_progress([]) == 0
    assert weighted_progress([]) == 0


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 9, 1, tzinfo=UTC), D(0)),
        (datetime(2026, 10, 1, tzinfo=UTC), D(0)),
        (datetime(2026, 11, 16, tzinfo=UTC), D(46) / D(92)),
        (datetime(2027, 1, 1, tzinfo=UTC), D(1)),
        (datetime(2027, 2, 1, tzinfo=UTC), D(1)),
    ],
)
def test_elapsed_fraction_counts_both_end_days_in_the_cycle(
    now: datetime, expected: Decimal
) -> None:
    assert elapsed_fraction(STARTS, ENDS, now) == expected


def test_elapsed_fraction_needs_an_aware_time() -> None:
    with pytest.raises(InvalidValue, match="timezone-aware"):
        elapsed_fraction(STARTS, ENDS, datetime(2026, 11, 1))


def test_pace_bands_are_what_the_product_specifies() -> None:
    assert (D("0.1"), D("0.1"), D("0.3")) == (AHEAD_MARGIN, ON_TRACK_TOLERANCE, AT_RISK_TOLERANCE)


@pytest.mark.parametrize(
    ("progress", "status"),
    [
        ("0.61", PaceStatus.AHEAD),
        ("0.6", PaceStatus.AHEAD),  # expected + 0.1 is ahead
        ("0.59", PaceStatus.ON_TRACK),
        ("0.4", PaceStatus.ON_TRACK),  # expected - 0.1 is still on track
        ("0.39", PaceStatus.AT_RISK),
        ("0.2", PaceStatus.AT_RISK),  # expected - 0.3 is still at risk
        ("0.19", PaceStatus.OFF_TRACK),
    ],
)
def test_pace_against_half_the_cycle_gone(progress: str, status: PaceStatus) -> None:
    assert pace_for(D(progress), D("0.5")) is status


def test_everything_is_on_track_before_the_cycle_starts() -> None:
    before = datetime(2026, 9, 30, 23, 59, tzinfo=UTC)

    assert pace(D(0), STARTS, ENDS, before) is PaceStatus.ON_TRACK
    assert pace(D(1), STARTS, ENDS, before) is PaceStatus.ON_TRACK


def test_no_progress_at_the_end_of_the_cycle_is_off_track() -> None:
    assert pace(D(0), STARTS, ENDS, datetime(2027, 1, 2, tzinfo=UTC)) is PaceStatus.OFF_TRACK
