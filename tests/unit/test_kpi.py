"""KPIs in the domain: bands and direction, health transitions, readings, corrections,
and the choice the KPI-link policy makes for a key result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okrledger.domain.errors import InvalidValue
from okrledger.domain.kpi import (
    KPI,
    Cadence,
    DirectionContradictsBands,
    InvalidKPI,
    KPIIsRetired,
    KPIReadingsRefused,
    Reading,
    ReadingIdReused,
    ReadingIdTaken,
    ReadingInFuture,
)
from okrledger.domain.kpi_health import Bands, Direction, Health, InvalidBands
from okrledger.domain.objective import KeyResult, MetricKind
from okrledger.services.kpi_links import reading_to_follow

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HIGHER = Direction.HIGHER_IS_BETTER
LOWER = Direction.LOWER_IS_BETTER


def a_kpi(direction: Direction = HIGHER, bands: Bands | None = None, **kw: Any) -> KPI:
    return KPI.define(
        id=uuid4(),
        name=kw.pop("name", "Conversion rate"),
        key=kw.pop("key", "conversion-rate"),
        unit="%",
        direction=direction,
        area="sales",
        cadence=Cadence.DAILY,
        bands=bands,
        **kw,
    )


def reading(value: Any, minutes_ago: int = 0, reading_id: UUID | None = None) -> Reading:
    return Reading(reading_id or uuid4(), value, NOW - timedelta(minutes=minutes_ago))


def names(kpi: KPI) -> list[str]:
    return [type(e).__name__ for e in kpi.collect_events()]


# -- bands and direction ----------------------------------------------------------


def test_higher_is_better_bands_need_green_above_yellow() -> None:
    with pytest.raises(InvalidBands):
        Bands.checked(2, 3, HIGHER)


def test_lower_is_better_bands_need_green_below_yellow() -> None:
    with pytest.raises(InvalidBands):
        Bands.checked(60, 40, LOWER)


def test_bands_must_be_finite_numbers() -> None:
    with pytest.raises(InvalidValue):
        Bands.checked("NaN", 1, HIGHER)


@pytest.mark.parametrize(
    ("value", "health"),
    [("3.5", Health.GREEN), ("3", Health.GREEN), ("2.5", Health.YELLOW), ("1", Health.RED)],
)
def test_higher_is_better_health_reads_from_the_thresholds_up(value: str, health: Health) -> None:
    assert Bands.checked(3, 2, HIGHER).health(Decimal(value), HIGHER) is health


@pytest.mark.parametrize(
    ("value", "health"),
    [("30", Health.GREEN), ("40", Health.GREEN), ("50", Health.YELLOW), ("70", Health.RED)],
)
def test_lower_is_better_health_reads_from_the_thresholds_down(value: str, health: Health) -> None:
    assert Bands.checked(40, 60, LOWER).health(Decimal(value), LOWER) is health


def test_defining_a_kpi_refuses_bands_against_its_direction() -> None:
    with pytest.raises(InvalidBands):
        a_kpi(LOWER, Bands(Decimal(3), Decimal(2)))


def test_a_kpi_key_must_be_a_slug() -> None:
    with pytest.raises(InvalidKPI):
        a_kpi(key="Conversion Rate")


def test_turning_the_direction_of_a_kpi_with_bands_is_refused() -> None:
    kpi = a_kpi(HIGHER, Bands(Decimal(3), Decimal(2)))
    with pytest.raises(DirectionContradictsBands):
        kpi.revise(direction=LOWER)


def test_revising_records_only_the_fields_that_changed() -> None:
    kpi = a_kpi()
    kpi.collect_events()
    kpi.revise(name="Conversion rate", area="marketing")
    events = kpi.collect_events()
    assert [type(e).__name__ for e in events] == ["KPIRevised"]
    assert events[0].name is None  # type: ignore[attr-defined]
    assert events[0].area == "marketing"  # type: ignore[attr-defined]


# -- health transitions -------------------------------------------------------------


def test_a_reading_that_moves_health_to_another_band_records_the_change() -> None:
    kpi = a_kpi(HIGHER, Bands(Decimal(3), Decimal(2)))
    kpi.record_readings([reading("3.2", 10)], now=NOW)
    kpi.collect_events()

    kpi.record_readings([reading("1.4")], now=NOW)

    events = kpi.collect_events()
    assert [type(e).__name__ for e in events] == ["KPIReadingRecorded", "KPIHealthChanged"]
    assert (events[1].from_health, events[1].to_health) == (  # type: ignore[attr-defined]
        Health.GREEN,
        Health.RED,
    )


def test_a_reading_in_the_same_band_records_no_health_change() -> None:
    kpi = a_kpi(HIGHER, Bands(Decimal(3), Decimal(2)))
    kpi.record_readings([reading("3.2", 10)], now=NOW)
    kpi.collect_events()

    kpi.record_readings([reading("3.9")], now=NOW)

    assert names(kpi) == ["KPIReadingRecorded"]


def test_a_back_filled_reading_does_not_change_the_latest_value_or_health() -> None:
    kpi = a_kpi(HIGHER, Bands(Decimal(3), Decimal(2)))
    kpi.record_readings([reading("3.2", 10)], now=NOW)
    kpi.collect_events()

    kpi.record_readings([reading("1", 60 * 24)], now=NOW)

    assert names(kpi) == ["KPIReadingRecorded"]
    assert (kpi.latest_value, kpi.health) == (Decimal("3.2"), Health.GREEN)


def test_new_bands_rejudge_the_latest_reading() -> None:
    kpi = a_kpi(LOWER, Bands(Decimal(40), Decimal(60)))
    kpi.record_readings([reading(50)], now=NOW)
    kpi.collect_events()

    kpi.set_bands(Bands.checked(55, 70, LOWER), reason="Tighter service level")

    assert names(kpi) == ["KPIBandsSet", "KPIHealthChanged"]
    assert kpi.health is Health.GREEN


def test_correcting_the_latest_reading_can_change_health() -> None:
    kpi = a_kpi(HIGHER, Bands(Decimal(3), Decimal(2)))
    first = reading("3.5")
    kpi.record_readings([first], now=NOW)
    kpi.collect_events()

    kpi.correct_reading(
        reading_id=first.reading_id,
        value="1.5",
        reason="tracking pixel double-counted",
        observed_at=first.observed_at,
        original_value=Decimal("3.5"),
    )

    assert names(kpi) == ["KPIReadingCorrected", "KPIHealthChanged"]
    assert (kpi.latest_value, kpi.health) == (Decimal("1.5"), Health.RED)


def test_a_correction_needs_a_reason() -> None:
    kpi = a_kpi()
    first = reading(1)
    kpi.record_readings([first], now=NOW)
    with pytest.raises(InvalidValue):
        kpi.correct_reading(
            reading_id=first.reading_id,
            value=2,
            reason="  ",
            observed_at=first.observed_at,
            original_value=Decimal(1),
        )


# -- readings ------------------------------------------------------------------------


def test_a_retired_kpi_refuses_readings() -> None:
    kpi = a_kpi()
    kpi.retire()
    with pytest.raises(KPIIsRetired):
        kpi.record_readings([reading(1)], now=NOW)


def test_a_reading_more_than_five_minutes_ahead_is_refused() -> None:
    kpi = a_kpi()
    with pytest.raises(KPIReadingsRefused) as refused:
        kpi.record_readings([reading(1, minutes_ago=-6)], now=NOW)
    assert isinstance(refused.value.refusals[0].error, ReadingInFuture)


def test_a_reading_up_to_five_minutes_ahead_is_accepted() -> None:
    kpi = a_kpi()
    kpi.record_readings([reading(1, minutes_ago=-5)], now=NOW)
    assert kpi.readings == 1


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN", "abc"])
def test_a_reading_must_be_a_finite_number(value: str) -> None:
    with pytest.raises(KPIReadingsRefused):
        a_kpi().record_readings([reading(value)], now=NOW)


def test_a_batch_with_bad_items_records_nothing_and_reports_each_of_them() -> None:
    kpi = a_kpi()
    kpi.collect_events()
    batch = [reading(1), reading("NaN"), reading(2), reading(3, minutes_ago=-60)]

    with pytest.raises(KPIReadingsRefused) as refused:
        kpi.record_readings(batch, now=NOW)

    assert [(r.index, r.error.field) for r in refused.value.refusals] == [
        (1, "value"),
        (3, "observed_at"),
    ]
    assert kpi.collect_events() == []


def test_a_batch_skips_reading_ids_already_recorded_and_repeated_within_it() -> None:
    kpi = a_kpi()
    kpi.collect_events()
    known, twice = uuid4(), uuid4()
    batch = [reading(1, 3, known), reading(2, 2, twice), reading(2, 2, twice)]

    recorded = kpi.record_readings(batch, now=NOW, recorded={known})

    assert [r.reading_id for r in recorded] == [twice]
    assert names(kpi) == ["KPIReadingRecorded"]


def test_a_reading_sent_again_with_its_id_is_skipped() -> None:
    kpi = a_kpi()
    kpi.collect_events()
    earlier = Reading(uuid4(), Decimal("2.50"), NOW - timedelta(minutes=5), "crm", "run-1")
    again = earlier._replace(value=Decimal("2.5"), run_id="run-2")  # same value, later run

    recorded = kpi.record_readings([again], now=NOW, held={earlier.reading_id: earlier})

    assert recorded == []
    assert names(kpi) == []


@pytest.mark.parametrize(
    "change",
    [
        {"value": Decimal("2.6")},
        {"observed_at": NOW - timedelta(minutes=4)},
        {"source": "erp"},
        {"source": None},
    ],
    ids=["value", "observed_at", "source", "no source"],
)
def test_another_reading_with_an_id_already_held_is_refused_and_nothing_recorded(
    change: dict[str, Any],
) -> None:
    kpi = a_kpi()
    kpi.collect_events()
    earlier = Reading(uuid4(), Decimal("2.5"), NOW - timedelta(minutes=5), "crm")
    other = earlier._replace(**change)

    with pytest.raises(KPIReadingsRefused) as refused:
        kpi.record_readings([reading(1), other], now=NOW, held={earlier.reading_id: earlier})

    (refusal,) = refused.value.refusals
    assert (refusal.index, refusal.reading_id) == (1, earlier.reading_id)
    assert isinstance(refusal.error, ReadingIdReused)
    assert refusal.error.code == "READING_ID_REUSED"
    assert names(kpi) == []


def test_two_different_readings_with_one_id_in_a_batch_are_refused() -> None:
    kpi = a_kpi()
    kpi.collect_events()
    twice = uuid4()

    with pytest.raises(KPIReadingsRefused) as refused:
        kpi.record_readings([reading(2, 2, twice), reading(3, 1, twice)], now=NOW)

    assert [(r.index, r.error.code) for r in refused.value.refusals] == [(1, "READING_ID_REUSED")]
    assert names(kpi) == []


def test_a_reading_id_held_by_another_kpi_is_refused() -> None:
    taken = uuid4()
    with pytest.raises(KPIReadingsRefused) as refused:
        a_kpi().record_readings([reading(1, reading_id=taken)], now=NOW, taken={taken})
    assert isinstance(refused.value.refusals[0].error, ReadingIdTaken)


def test_a_batch_of_more_than_5000_readings_is_refused() -> None:
    with pytest.raises(InvalidValue):
        a_kpi().record_readings([reading(1)] * 5001, now=NOW)


# -- interleavings of readings and corrections ----------------------------------------

_step = st.one_of(
    st.tuples(
        st.just("read"),
        st.integers(min_value=0, max_value=20),
        st.decimals(min_value=-1000, max_value=1000, places=2),
    ),
    st.tuples(
        st.just("correct"),
        st.integers(min_value=0, max_value=30),
        st.decimals(min_value=-1000, max_value=1000, places=2),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_step, min_size=1, max_size=40))
def test_any_interleaving_leaves_the_latest_value_the_final_events_say(
    steps: list[tuple[str, int, Decimal]],
) -> None:
    kpi = a_kpi(HIGHER, Bands(Decimal(10), Decimal(0)))
    held: list[Reading] = []
    for kind, number, value in steps:
        if kind == "read":
            # Observed times collide on purpose: ties must resolve the same way everywhere.
            new = reading(value, minutes_ago=number)
            kpi.record_readings([new], now=NOW)
            held.append(new)
        elif held:
            target = held[number % len(held)]
            kpi.correct_reading(
                reading_id=target.reading_id,
                value=value,
                reason="audit",
                observed_at=target.observed_at,
                original_value=Decimal(target.value),
            )
    events = kpi.collect_events()

    # What the events say, read naively: the earliest-recorded of the newest observed
    # readings, with the last correction made to it.
    recorded = [e for e in events if type(e).__name__ == "KPIReadingRecorded"]
    if not recorded:
        assert kpi.latest_value is None
        return
    newest = max(recorded, key=lambda e: e.observed_at)  # type: ignore[attr-defined]
    value = newest.value  # type: ignore[attr-defined]
    for e in events:
        if type(e).__name__ == "KPIReadingCorrected" and (
            e.reading_id == newest.reading_id  # type: ignore[attr-defined]
        ):
            value = e.value  # type: ignore[attr-defined]
    assert kpi.latest_value == value
    assert kpi.health is Bands(Decimal(10), Decimal(0)).health(value, HIGHER)
    replayed: Any = None
    for e in events:
        replayed = e.mutate(replayed)
    assert (replayed.latest_value, replayed.health) == (kpi.latest_value, kpi.health)


# -- the link policy's choice -------------------------------------------------------------

CYCLE = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def a_linked_key_result(kpi_id: UUID, last: datetime | None = None) -> KeyResult:
    return KeyResult(
        id=uuid4(),
        title="Lift conversion to 4%",
        metric=MetricKind.PERCENT,
        start=Decimal(2),
        target=Decimal(4),
        current=Decimal(2),
        weight=Decimal(1),
        kpi_id=kpi_id,
        last_reading_observed_at=last,
    )


def test_the_policy_follows_the_newest_reading_of_a_batch() -> None:
    kpi_id = uuid4()
    batch = [reading(2, 30), reading(3, 10), reading(1, 20)]
    assert reading_to_follow(a_linked_key_result(kpi_id), kpi_id, CYCLE, batch) == batch[1]


def test_the_policy_ignores_readings_observed_outside_the_cycle() -> None:
    kpi_id = uuid4()
    before_cycle = Reading(uuid4(), 5, datetime(2026, 9, 30, 23, 59, tzinfo=UTC))
    assert reading_to_follow(a_linked_key_result(kpi_id), kpi_id, CYCLE, [before_cycle]) is None


def test_the_policy_ignores_readings_not_newer_than_the_one_followed() -> None:
    kpi_id = uuid4()
    followed_at = NOW - timedelta(minutes=10)
    kr = a_linked_key_result(kpi_id, last=followed_at)
    assert reading_to_follow(kr, kpi_id, CYCLE, [reading(9, 10), reading(9, 20)]) is None


def test_the_policy_ignores_key_results_that_follow_another_kpi() -> None:
    kr = a_linked_key_result(uuid4())
    assert reading_to_follow(kr, uuid4(), CYCLE, [reading(1)]) is None
