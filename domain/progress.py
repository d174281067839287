"""Progress is derived from key results, never stored by hand; pace compares it with time.

All arithmetic is in Decimal. A cycle runs from the start of `starts_on` to the end
of `ends_on` (both UTC days, both included).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, localcontext
from enum import Enum

from okrledger.domain.errors import InvalidValue
from okrledger.domain.objective import KeyResult, MetricKind

ZERO = Decimal(0)
ONE = Decimal(1)
# Enough digits to subtract two 28-digit means of values in 0..1 exactly.
_EXACT_DIGITS = 120

# Pace bands, relative to the progress expected from the time elapsed in the cycle.
AHEAD_MARGIN = Decimal("0.1")  # at least this much above expected
ON_TRACK_TOLERANCE = Decimal("0.1")  # at most this much below expected
AT_RISK_TOLERANCE = Decimal("0.3")  # at most this much below expected; beyond: off track


class PaceStatus(Enum):
    AHEAD = "AHEAD"
    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    OFF_TRACK = "OFF_TRACK"


def clamp(value: Decimal) -> Decimal:
    return max(ZERO, min(ONE, value))


def key_result_progress(
    metric: MetricKind, start: Decimal, target: Decimal, current: Decimal
) -> Decimal:
    """How far `current` has moved from `start` to `target`, from 0 to 1.

    Works for lower-is-better targets (target below start) too. Yes/no and milestone
    key results are all or nothing: 1 once the target is reached.
    """
    if start == target:
        return ONE if current == target else ZERO
    if metric in (MetricKind.BOOLEAN, MetricKind.MILESTONE):
        reached = current >= target if target > start else current <= target
        return ONE if reached else ZERO
    return clamp((current - start) / (target - start))


def progress_of(key_result: KeyResult) -> Decimal:
    return key_result_progress(
        key_result.metric, key_result.start, key_result.target, key_result.current
    )


def weighted_progress(parts: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Weighted mean of `(progress, weight)` pairs; 0 when there are none."""
    means = _running_means(list(parts))
    return means[-1] if means else ZERO


def contributions(parts: Iterable[tuple[Decimal, Decimal]]) -> list[Decimal]:
    """What each `(progress, weight)` pair adds to `weighted_progress` of them all.

    Each is its weight share times its progress, apportioned so that added up in
    order (in ordinary Decimal arithmetic) they give `weighted_progress` exactly,
    to the last digit: the i-th is the mean of the first i weighted values less
    the mean of the first i - 1, both as `weighted_progress` rounds them.
    """
    means = _running_means(list(parts))
    with localcontext() as exact:
        exact.prec = _EXACT_DIGITS  # a difference of two rounded means, without rounding
        return [mean - before for before, mean in zip([ZERO, *means], means, strict=False)]


def weight_shares(weights: Iterable[Decimal]) -> list[Decimal]:
    """Each weight over their total (0 for all when the total is not above 0)."""
    given = list(weights)
    total = sum(given, ZERO)
    return [weight / total if total > 0 else ZERO for weight in given]


def _running_means(parts: list[tuple[Decimal, Decimal]]) -> list[Decimal]:
    """After each pair, the weighted sum so far over the total weight of all pairs."""
    total_weight = sum((weight for _, weight in parts), ZERO)
    if total_weight <= 0:
        return [ZERO for _ in parts]
    weighted_sum = ZERO
    means = []
    for progress, weight in parts:
        weighted_sum += progress * weight
        means.append(weighted_sum / total_weight)
    return means


def objective_progress(key_results: Iterable[KeyResult]) -> Decimal:
    return weighted_progress((progress_of(kr), kr.weight) for kr in key_results)


def cycle_bounds(starts_on: date, ends_on: date) -> tuple[datetime, datetime]:
    start = datetime.combine(starts_on, time(), tzinfo=UTC)
    end = datetime.combine(ends_on + timedelta(days=1), time(), tzinfo=UTC)
    return start, end


def elapsed_fraction(starts_on: date, ends_on: date, now: datetime) -> Decimal:
    """The share of the cycle that has passed at `now`, from 0 to 1."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidValue("now must be timezone-aware", field="now")
    start, end = cycle_bounds(starts_on, ends_on)
    return clamp(_seconds(now - start) / _seconds(end - start))


def pace_for(progress: Decimal, expected: Decimal) -> PaceStatus:
    if progress >= expected + AHEAD_MARGIN:
        return PaceStatus.AHEAD
    if progress >= expected - ON_TRACK_TOLERANCE:
        return PaceStatus.ON_TRACK
    if progress >= expected - AT_RISK_TOLERANCE:
        return PaceStatus.AT_RISK
    return PaceStatus.OFF_TRACK


def pace(progress: Decimal, starts_on: date, ends_on: date, now: datetime) -> PaceStatus:
    """Progress against the time elapsed; everything is on track before the cycle starts."""
    expected = elapsed_fraction(starts_on, ends_on, now)
    if now < cycle_bounds(starts_on, ends_on)[0]:
        return PaceStatus.ON_TRACK
    return pace_for(progress, expected)


def _seconds(delta: timedelta) -> Decimal:
    whole = Decimal(delta.days * 86_400 + delta.seconds)
    return whole + Decimal(delta.microseconds) / Decimal(1_000_000)
