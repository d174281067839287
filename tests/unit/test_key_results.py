from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from okrledger.domain.errors import DomainError, InvalidValue
from okrledger.domain.objective import (
    Confidence,
    CycleIsClosed,
    DuplicateKeyResult,
    InvalidKeyResult,
    KeyResultNotFound,
    KeyResultNotLinkable,
    KeyResultNotLinked,
    MetricKind,
    Objective,
    ObjectiveIsClosed,
    TooManyKeyResults,
)
from okrledger.domain.tenant_policy import InvalidTenantPolicy, TenantPolicy

BASE = {"originator_id", "originator_version", "timestamp", "originator_topic"}
STRETCH = TenantPolicy(allow_percent_stretch=True)
T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)


def payload(event: object) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k not in BASE}


def names(objective: Objective) -> list[str]:
    return [type(e).__name__ for e in objective.pending_events]


def new_objective() -> Objective:
    objective = Objective.set(
        id=uuid4(), title="Win", description="", cycle_id=uuid4(), owner="a", cycle_closed=False
    )
    objective.activate()
    return objective


def add_number(objective: Objective, start: int = 0, target: int = 10) -> UUID:
    key_result_id = uuid4()
    objective.add_key_result(
        key_result_id=key_result_id,
        title=f"Reach {target}",
        metric=MetricKind.NUMBER,
        start=start,
        target=target,
        cycle_closed=False,
    )
    return key_result_id


def assert_refused(
    objective: Objective, command: Callable[[], object], error: type[DomainError]
) -> DomainError:
    before = {k: copy.deepcopy(v) for k, v in vars(objective).items() if k != "_pending_events"}
    pending = list(objective.pending_events)
    with pytest.raises(error) as caught:
        command()
    assert {k: v for k, v in vars(objective).items() if k != "_pending_events"} == before
    assert objective.pending_events == pending
    return caught.value


def test_adding_a_key_result_records_key_result_added() -> None:
    objective = new_objective()
    key_result_id = uuid4()

    objective.add_key_result(
        key_result_id=key_result_id,
        title=" Raise NPS from 31 to 45 ",
        metric=MetricKind.NUMBER,
        start=31,
        target=Decimal("45"),
        unit="points",
        cycle_closed=False,
    )

    assert payload(objective.pending_events[-1]) == {
        "key_result_id": key_result_id,
        "title": "Raise NPS from 31 to 45",
        "metric": MetricKind.NUMBER,
        "currency": None,
        "start": Decimal(31),
        "target": Decimal(45),
        "unit": "points",
        "weight": Decimal(1),
    }
    kr = objective.key_result(key_result_id)
    assert (kr.current, kr.confidence, kr.kpi_id) == (Decimal(31), None, None)


def test_yes_no_and_milestone_key_results_default_to_zero_to_one() -> None:
    objective = new_objective()
    launch = uuid4()

    objective.add_key_result(
        key_result_id=launch, title="Launch", metric=MetricKind.BOOLEAN, cycle_closed=False
    )

    state = objective.key_results[launch]
    assert (state.start, state.target) == (Decimal(0), Decimal(1))


def test_currency_key_result_records_its_code() -> None:
    objective = new_objective()
    revenue = uuid4()

    objective.add_key_result(
        key_result_id=revenue,
        title="Revenue",
        metric=MetricKind.CURRENCY,
        currency="eur",
        start=0,
        target=1_000_000,
        cycle_closed=False,
    )

    assert objective.key_results[revenue].currency == "EUR"


def test_sixth_key_result_is_refused_by_default() -> None:
    objective = new_objective()
    for _ in range(5):
        add_number(objective)

    error = assert_refused(objective, lambda: add_number(objective), TooManyKeyResults)
    assert error.message == "Objective 'Win' already has 5 key results; the limit is 5"
    assert error.code == "INVALID_STATE"


def test_tenant_policy_can_raise_the_key_result_limit() -> None:
    objective = new_objective()
    policy = TenantPolicy(max_key_results=7)

    for _ in range(7):
        objective.add_key_result(
            key_result_id=uuid4(),
            title="KR",
            metric=MetricKind.NUMBER,
            start=0,
            target=1,
            cycle_closed=False,
            policy=policy,
        )

    assert len(objective.key_results) == 7


@pytest.mark.parametrize("limit", [0, 11, -1])
def test_tenant_policy_limit_must_stay_between_one_and_ten(limit: int) -> None:
    with pytest.raises(InvalidTenantPolicy, match="from 1 to 10"):
        TenantPolicy(max_key_results=limit)


def test_start_equal_to_target_is_refused() -> None:
    objective = new_objective()

    error = assert_refused(objective, lambda: add_number(objective, 5, 5), InvalidKeyResult)
    assert error.field == "target"


def test_numeric_key_result_without_a_target_is_refused() -> None:
    objective = new_objective()

    assert_refused(
        objective,
        lambda: objective.add_key_result(
            key_result_id=uuid4(),
            title="KR",
            metric=MetricKind.NUMBER,
            start=0,
            cycle_closed=False,
        ),
        InvalidKeyResult,
    )


@pytest.mark.parametrize(("start", "target"), [(0, 120), (-5, 50)])
def test_percent_outside_zero_to_hundred_is_refused(start: int, target: int) -> None:
    objective = new_objective()

    assert_refused(
        objective,
        lambda: objective.add_key_result(
            key_result_id=uuid4(),
            title="KR",
            metric=MetricKind.PERCENT,
            start=start,
            target=target,
            cycle_closed=False,
        ),
        InvalidKeyResult,
    )


def test_percent_stretch_above_hundred_is_allowed_by_tenant_policy() -> None:
    objective = new_objective()
    kr = uuid4()

    objective.add_key_result(
        key_result_id=kr,
        title="KR",
        metric=MetricKind.PERCENT,
        start=0,
        target=120,
        cycle_closed=False,
        policy=STRETCH,
    )
    objective.check_in_key_result(
        key_result_id=kr, value=130, confidence=Confidence.ON_TRACK, policy=STRETCH
    )

    assert objective.key_results[kr].current == 130


@pytest.mark.parametrize("weight", [0, -1])
def test_weight_must_be_positive(weight: int) -> None:
    objective = new_objective()

    assert_refused(
        objective,
        lambda: objective.add_key_result(
            key_result_id=uuid4(),
            title="KR",
            metric=MetricKind.NUMBER,
            start=0,
            target=1,
            weight=weight,
            cycle_closed=False,
        ),
        InvalidKeyResult,
    )


@pytest.mark.parametrize(
    ("metric", "currency"),
    [(MetricKind.CURRENCY, None), (MetricKind.CURRENCY, "EURO"), (MetricKind.NUMBER, "EUR")],
)
def test_currency_code_only_and_always_on_currency_key_results(
    metric: MetricKind, currency: str | None
) -> None:
    objective = new_objective()

    assert_refused(
        objective,
        lambda: objective.add_key_result(
            key_result_id=uuid4(),
            title="KR",
            metric=metric,
            currency=currency,
            start=0,
            target=1,
            cycle_closed=False,
        ),
        InvalidKeyResult,
    )


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "ten"])
def test_non_finite_values_are_refused(value: str) -> None:
    objective = new_objective()

    assert_refused(
        objective,
        lambda: objective.add_key_result(
            key_result_id=uuid4(),
            title="KR",
            metric=MetricKind.NUMBER,
            start=0,
            target=value,
            cycle_closed=False,
        ),
        InvalidValue,
    )


def test_yes_no_key_result_values_are_zero_or_one() -> None:
    objective = new_objective()

    assert_refused(
        objective,
        lambda: objective.add_key_result(
            key_result_id=uuid4(),
            title="KR",
            metric=MetricKind.BOOLEAN,
            start=0,
            target=2,
            cycle_closed=False,
        ),
        InvalidKeyResult,
    )


@pytest.mark.parametrize("metric", [MetricKind.BOOLEAN, MetricKind.MILESTONE])
@pytest.mark.parametrize(
    ("field", "start", "target"),
    [("target", 0, 2), ("target", 0, "0.5"), ("start", -1, 1), ("start", "0.5", 1)],
)
def test_yes_no_and_milestone_start_and_target_are_zero_or_one(
    metric: MetricKind, field: str, start: int | str, target: int | str
) -> None:
    objective = new_objective()

    with pytest.raises(InvalidKeyResult) as refused:
        objective.add_key_result(
            key_result_id=uuid4(),
            title="Launch",
            metric=metric,
            start=start,
            target=target,
            cycle_closed=False,
        )

    assert refused.value.field == field
    assert names(objective) == ["ObjectiveSet", "ObjectiveActivated"]


@pytest.mark.parametrize("value", ["2", "0.5", "-1"])
def test_a_milestone_check_in_is_zero_or_one(value: str) -> None:
    objective = new_objective()
    key_result_id = uuid4()
    objective.add_key_result(
        key_result_id=key_result_id, title="Launch", metric=MetricKind.MILESTONE,
        cycle_closed=False,
    )  # fmt: skip

    with pytest.raises(InvalidKeyResult) as refused:
        objective.check_in_key_result(
            key_result_id=key_result_id, value=value, confidence=Confidence.ON_TRACK, now=T0
        )

    assert refused.value.field == "value"
    assert objective.key_results[key_result_id].current == 0


def test_revising_a_milestone_target_beyond_one_is_refused() -> None:
    objective = new_objective()
    key_result_id = uuid4()
    objective.add_key_result(
        key_result_id=key_result_id, title="Launch", metric=MetricKind.MILESTONE,
        cycle_closed=False,
    )  # fmt: skip

    with pytest.raises(InvalidKeyResult) as refused:
        objective.revise_key_result(key_result_id=key_result_id, target=3, cycle_closed=False)

    assert refused.value.field == "target"


def test_adding_the_same_key_result_id_twice_is_refused() -> None:
    objective = new_objective()
    kr = add_number(objective)

    assert_refused(
        objective,
        lambda: objective.add_key_result(
            key_result_id=kr,
            title="KR",
            metric=MetricKind.NUMBER,
            start=0,
            target=1,
            cycle_closed=False,
        ),
        DuplicateKeyResult,
    )


def test_key_result_edits_are_refused_when_the_cycle_is_closed() -> None:
    objective = new_objective()
    kr = add_number(objective)

    for command in (
        lambda: objective.add_key_result(
            key_result_id=uuid4(),
            title="KR",
            metric=MetricKind.NUMBER,
            start=0,
            target=1,
            cycle_closed=True,
        ),
        lambda: objective.revise_key_result(key_result_id=kr, title="New", cycle_closed=True),
        lambda: objective.remove_key_result(kr, cycle_closed=True),
    ):
        assert_refused(objective, command, CycleIsClosed)


def test_revising_a_key_result_records_only_the_changed_fields() -> None:
    objective = new_objective()
    kr = add_number(objective, 0, 10)

    objective.revise_key_result(
        key_result_id=kr, title="Reach 10", target=12, weight=Decimal("1.0"), cycle_closed=False
    )

    assert payload(objective.pending_events[-1]) == {
        "key_result_id": kr,
        "title": None,
        "start": None,
        "target": Decimal(12),
        "unit": None,
        "weight": None,
    }
    assert objective.key_results[kr].target == 12


def test_revising_a_key_result_without_a_change_records_nothing() -> None:
    objective = new_objective()
    kr = add_number(objective, 0, 10)
    pending = len(objective.pending_events)

    objective.revise_key_result(key_result_id=kr, start=0, target=10, cycle_closed=False)

    assert len(objective.pending_events) == pending


def test_an_empty_unit_removes_it() -> None:
    objective = new_objective()
    kr = uuid4()
    objective.add_key_result(
        key_result_id=kr,
        title="KR",
        metric=MetricKind.NUMBER,
        start=0,
        target=1,
        unit="km",
        cycle_closed=False,
    )

    objective.revise_key_result(key_result_id=kr, unit="", cycle_closed=False)

    assert objective.key_results[kr].unit == ""


def test_revising_a_key_result_into_start_equal_target_is_refused() -> None:
    objective = new_objective()
    kr = add_number(objective, 0, 10)

    assert_refused(
        objective,
        lambda: objective.revise_key_result(key_result_id=kr, start=10, cycle_closed=False),
        InvalidKeyResult,
    )


def test_removing_a_key_result_records_key_result_removed() -> None:
    objective = new_objective()
    kr = add_number(objective)

    objective.remove_key_result(kr, cycle_closed=False)

    assert kr not in objective.key_results
    assert payload(objective.pending_events[-1]) == {"key_result_id": kr}


def test_unknown_key_result_is_not_found() -> None:
    objective = new_objective()

    error = assert_refused(
        objective,
        lambda: objective.remove_key_result(uuid4(), cycle_closed=False),
        KeyResultNotFound,
    )
    assert error.code == "NOT_FOUND"


def test_checking_in_records_value_confidence_and_note() -> None:
    objective = new_objective()
    kr = add_number(objective)

    objective.check_in_key_result(
        key_result_id=kr, value="4.5", confidence=Confidence.AT_RISK, note=" Slow week ", now=T0
    )

    assert payload(objective.pending_events[-1]) == {
        "key_result_id": kr,
        "value": Decimal("4.5"),
        "confidence": Confidence.AT_RISK,
        "note": "Slow week",
        "observed_at": T0,
        "source": None,
        "run_id": None,
        "client": None,
    }
    state = objective.key_results[kr]
    assert (state.current, state.confidence, state.note) == (
        Decimal("4.5"),
        Confidence.AT_RISK,
        "Slow week",
    )


def test_check_in_on_a_closed_objective_is_refused() -> None:
    objective = new_objective()
    kr = add_number(objective)
    objective.close()

    assert_refused(
        objective,
        lambda: objective.check_in_key_result(
            key_result_id=kr, value=1, confidence=Confidence.ON_TRACK
        ),
        ObjectiveIsClosed,
    )


def test_percent_check_in_above_hundred_is_refused_without_stretch() -> None:
    objective = new_objective()
    kr = uuid4()
    objective.add_key_result(
        key_result_id=kr,
        title="KR",
        metric=MetricKind.PERCENT,
        start=0,
        target=80,
        cycle_closed=False,
    )

    assert_refused(
        objective,
        lambda: objective.check_in_key_result(
            key_result_id=kr, value=101, confidence=Confidence.ON_TRACK
        ),
        InvalidKeyResult,
    )


def linked(objective: Objective) -> tuple[UUID, UUID]:
    kr, kpi = add_number(objective, 0, 100), uuid4()
    objective.link_key_result_to_kpi(kr, kpi)
    return kr, kpi


def test_linking_a_numeric_key_result_to_a_kpi() -> None:
    objective = new_objective()

    kr, kpi = linked(objective)

    assert objective.key_results[kr].kpi_id == kpi
    assert payload(objective.pending_events[-1]) == {"key_result_id": kr, "kpi_id": kpi}


def test_linking_to_the_same_kpi_again_records_nothing() -> None:
    objective = new_objective()
    kr, kpi = linked(objective)
    pending = len(objective.pending_events)

    objective.link_key_result_to_kpi(kr, kpi)

    assert len(objective.pending_events) == pending


def test_a_yes_no_key_result_cannot_follow_a_kpi() -> None:
    objective = new_objective()
    kr = uuid4()
    objective.add_key_result(
        key_result_id=kr, title="Launch", metric=MetricKind.BOOLEAN, cycle_closed=False
    )

    assert_refused(
        objective, lambda: objective.link_key_result_to_kpi(kr, uuid4()), KeyResultNotLinkable
    )


def test_unlinking_records_key_result_unlinked_from_kpi() -> None:
    objective = new_objective()
    kr, _ = linked(objective)

    objective.unlink_key_result_from_kpi(kr)

    assert objective.key_results[kr].kpi_id is None
    assert names(objective)[-1] == "KeyResultUnlinkedFromKPI"


def test_unlinking_a_key_result_that_is_not_linked_is_refused() -> None:
    objective = new_objective()
    kr = add_number(objective)

    assert_refused(objective, lambda: objective.unlink_key_result_from_kpi(kr), KeyResultNotLinked)


def follow(
    objective: Objective, kr: UUID, kpi: UUID, reading: UUID, value: int, at: datetime
) -> None:
    objective.follow_kpi_reading(
        key_result_id=kr, kpi_id=kpi, reading_id=reading, value=value, observed_at=at
    )


def test_a_kpi_reading_sets_the_linked_key_results_value() -> None:
    objective = new_objective()
    kr, kpi = linked(objective)
    reading = uuid4()

    follow(objective, kr, kpi, reading, 42, T0.astimezone(timezone(timedelta(hours=2))))

    assert payload(objective.pending_events[-1]) == {
        "key_result_id": kr,
        "kpi_id": kpi,
        "reading_id": reading,
        "value": Decimal(42),
        "observed_at": T0,
    }
    state = objective.key_results[kr]
    assert (state.current, state.last_reading_id, state.last_reading_observed_at) == (
        Decimal(42),
        reading,
        T0,
    )
    assert state.last_reading_observed_at is not None
    assert state.last_reading_observed_at.tzinfo is UTC


def test_the_same_reading_twice_records_one_event() -> None:
    objective = new_objective()
    kr, kpi = linked(objective)
    reading = uuid4()

    follow(objective, kr, kpi, reading, 42, T0)
    follow(objective, kr, kpi, reading, 42, T0)

    assert names(objective).count("KeyResultValueFollowedKPI") == 1


def test_an_older_reading_never_overwrites_a_newer_one() -> None:
    objective = new_objective()
    kr, kpi = linked(objective)

    follow(objective, kr, kpi, uuid4(), 42, T0)
    follow(objective, kr, kpi, uuid4(), 7, T0 - timedelta(hours=1))

    assert objective.key_results[kr].current == 42


def test_a_reading_of_another_kpi_records_nothing() -> None:
    objective = new_objective()
    kr, _ = linked(objective)
    pending = len(objective.pending_events)

    follow(objective, kr, uuid4(), uuid4(), 42, T0)

    assert len(objective.pending_events) == pending


def test_a_reading_for_a_closed_objective_records_nothing() -> None:
    objective = new_objective()
    kr, kpi = linked(objective)
    objective.close()
    pending = len(objective.pending_events)

    follow(objective, kr, kpi, uuid4(), 42, T0)

    assert len(objective.pending_events) == pending


def test_a_reading_with_a_naive_time_is_refused() -> None:
    objective = new_objective()
    kr, kpi = linked(objective)

    assert_refused(
        objective,
        lambda: follow(objective, kr, kpi, uuid4(), 1, datetime(2026, 10, 5, 9)),
        InvalidValue,
    )


def test_relinking_to_another_kpi_accepts_its_older_readings() -> None:
    objective = new_objective()
    kr, kpi = linked(objective)
    follow(objective, kr, kpi, uuid4(), 42, T0)
    other = uuid4()

    objective.link_key_result_to_kpi(kr, other)
    follow(objective, kr, other, uuid4(), 7, T0 - timedelta(days=1))

    assert objective.key_results[kr].current == 7


def test_a_correction_of_the_followed_reading_moves_the_key_result_once() -> None:
    objective = new_objective()
    kr, kpi = linked(objective)
    reading = uuid4()
    follow(objective, kr, kpi, reading, 42, T0)

    for _ in range(2):
        objective.follow_kpi_correction(key_result_id=kr, kpi_id=kpi, reading_id=reading, value=40)

    state = objective.key_results[kr]
    assert (state.current, state.last_reading_id, state.last_reading_observed_at) == (
        Decimal(40),
        reading,
        T0,
    )
    assert names(objective).count("KeyResultValueFollowedKPI") == 2


def test_a_correction_of_another_reading_records_nothing() -> None:
    objective = new_objective()
    kr, kpi = linked(objective)
    follow(objective, kr, kpi, uuid4(), 42, T0)
    pending = len(objective.pending_events)

    objective.follow_kpi_correction(key_result_id=kr, kpi_id=kpi, reading_id=uuid4(), value=1)

    assert len(objective.pending_events) == pending
