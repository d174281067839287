"""Moving a goalpost needs a reason: a key result's start or target once its cycle has
started, a KPI's target or bands once it has readings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from okrledger.domain.cycle import Cycle
from okrledger.domain.goalposts import ReasonRequired
from okrledger.domain.kpi import KPI, Cadence, Reading
from okrledger.domain.kpi_health import Bands, Direction
from okrledger.domain.objective import MetricKind, Objective

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
HIGHER = Direction.HIGHER_IS_BETTER


def objective_with_key_result() -> tuple[Objective, UUID]:
    objective = Objective.set(
        id=uuid4(), title="Win", description="", cycle_id=uuid4(), owner="a", cycle_closed=False
    )
    key_result_id = uuid4()
    objective.add_key_result(
        key_result_id=key_result_id,
        title="Raise NPS",
        metric=MetricKind.NUMBER,
        start=31,
        target=45,
        cycle_closed=False,
    )
    objective.collect_events()
    return objective, key_result_id


def a_kpi(*, with_reading: bool) -> KPI:
    kpi = KPI.define(
        id=uuid4(),
        name="Conversion rate",
        key="conversion-rate",
        unit="%",
        direction=HIGHER,
        area="sales",
        cadence=Cadence.DAILY,
        target=5,
        bands=Bands.checked(4, 3, HIGHER),
    )
    if with_reading:
        kpi.record_readings([Reading(uuid4(), 4, NOW)], now=NOW)
    kpi.collect_events()
    return kpi


def test_a_cycle_has_started_from_the_first_moment_of_its_first_day() -> None:
    cycle = Cycle.start(
        id=uuid4(), name="2026-Q4", starts_on=date(2026, 10, 1), ends_on=date(2026, 12, 31)
    )
    assert not cycle.has_started(datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC))
    assert cycle.has_started(datetime(2026, 10, 1, tzinfo=UTC))


@pytest.mark.parametrize(("start", "target"), [(20, None), (None, 40)])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_moving_a_start_or_target_after_the_cycle_started_without_a_reason_is_refused(
    start: int | None, target: int | None, reason: str | None
) -> None:
    objective, key_result_id = objective_with_key_result()
    with pytest.raises(ReasonRequired) as refused:
        objective.revise_key_result(
            key_result_id=key_result_id,
            start=start,
            target=target,
            cycle_closed=False,
            cycle_started=True,
            reason=reason,
        )
    assert (refused.value.code, refused.value.field) == ("REASON_REQUIRED", "reason")
    assert objective.collect_events() == []
    kr = objective.key_result(key_result_id)
    assert (kr.start, kr.target) == (Decimal(31), Decimal(45))


def test_moving_a_target_after_the_cycle_started_with_a_reason_is_recorded() -> None:
    objective, key_result_id = objective_with_key_result()
    objective.revise_key_result(
        key_result_id=key_result_id,
        target=40,
        cycle_closed=False,
        cycle_started=True,
        reason="Budget cut",
    )
    [revised] = objective.collect_events()
    assert type(revised).__name__ == "KeyResultRevised"
    assert objective.key_result(key_result_id).target == 40


def test_moving_a_target_before_the_cycle_started_needs_no_reason() -> None:
    objective, key_result_id = objective_with_key_result()
    objective.revise_key_result(
        key_result_id=key_result_id, target=40, cycle_closed=False, cycle_started=False
    )
    assert objective.key_result(key_result_id).target == 40


def test_renaming_or_reweighting_a_key_result_after_the_cycle_started_needs_no_reason() -> None:
    objective, key_result_id = objective_with_key_result()
    objective.revise_key_result(
        key_result_id=key_result_id,
        title="Raise NPS a lot",
        weight=2,
        cycle_closed=False,
        cycle_started=True,
    )
    assert objective.key_result(key_result_id).weight == 2


def test_a_revision_repeating_the_same_target_needs_no_reason_and_records_nothing() -> None:
    objective, key_result_id = objective_with_key_result()
    objective.revise_key_result(
        key_result_id=key_result_id, target=45, cycle_closed=False, cycle_started=True
    )
    assert objective.collect_events() == []


def test_changing_the_target_of_a_kpi_with_readings_without_a_reason_is_refused() -> None:
    kpi = a_kpi(with_reading=True)
    with pytest.raises(ReasonRequired):
        kpi.set_target(6)
    assert kpi.collect_events() == []
    assert kpi.target == 5


def test_removing_the_bands_of_a_kpi_with_readings_without_a_reason_is_refused() -> None:
    kpi = a_kpi(with_reading=True)
    with pytest.raises(ReasonRequired):
        kpi.set_bands(None)
    assert kpi.collect_events() == []
    assert kpi.bands == Bands.checked(4, 3, HIGHER)


def test_changing_the_bands_of_a_kpi_with_readings_with_a_reason_is_recorded() -> None:
    kpi = a_kpi(with_reading=True)
    kpi.set_bands(Bands.checked(5, 4, HIGHER), reason="Industry benchmark moved")
    assert kpi.bands == Bands.checked(5, 4, HIGHER)


def test_tuning_a_kpi_without_readings_needs_no_reason() -> None:
    kpi = a_kpi(with_reading=False)
    kpi.set_target(6)
    kpi.set_bands(Bands.checked(5, 4, HIGHER))
    assert (kpi.target, kpi.bands) == (Decimal(6), Bands.checked(5, 4, HIGHER))
