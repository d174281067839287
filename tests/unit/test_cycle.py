from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest

from okrledger.domain.cycle import Cycle, CycleAlreadyClosed, CycleNotClosed, InvalidCycleDates
from okrledger.domain.errors import DomainError, InvalidValue
from okrledger.domain.goalposts import ReasonRequired

BASE = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def payload(event: object) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k not in BASE}


def q4() -> Cycle:
    return Cycle.start(
        id=uuid4(), name="2026-Q4", starts_on=date(2026, 10, 1), ends_on=date(2026, 12, 31)
    )


def assert_refused(cycle: Cycle, command: Callable[[], object], error: type[DomainError]) -> None:
    before = {k: copy.deepcopy(v) for k, v in vars(cycle).items() if k != "_pending_events"}
    pending = list(cycle.pending_events)
    with pytest.raises(error):
        command()
    assert {k: v for k, v in vars(cycle).items() if k != "_pending_events"} == before
    assert cycle.pending_events == pending


def test_starting_a_cycle_records_cycle_started_under_the_given_id() -> None:
    cycle_id = uuid4()

    cycle = Cycle.start(
        id=cycle_id, name=" 2026-Q4 ", starts_on=date(2026, 10, 1), ends_on=date(2026, 12, 31)
    )

    assert cycle.id == cycle_id
    assert (cycle.name, cycle.closed) == ("2026-Q4", False)
    [started] = cycle.collect_events()
    assert type(started).__name__ == "CycleStarted"
    assert payload(started) == {
        "name": "2026-Q4",
        "starts_on": date(2026, 10, 1),
        "ends_on": date(2026, 12, 31),
    }


def test_blank_cycle_name_is_refused() -> None:
    with pytest.raises(InvalidValue, match="name must not be empty"):
        Cycle.start(id=uuid4(), name="  ", starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 31))


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [(date(2026, 3, 31), date(2026, 1, 1)), (date(2026, 1, 1), date(2026, 1, 1))],
)
def test_cycle_must_end_after_it_starts(starts_on: date, ends_on: date) -> None:
    with pytest.raises(InvalidCycleDates, match="must end after it starts") as caught:
        Cycle.start(id=uuid4(), name="2026-Q1", starts_on=starts_on, ends_on=ends_on)
    assert (caught.value.code, caught.value.field) == ("VALIDATION", "ends_on")


def test_cycle_dates_must_be_calendar_dates_not_datetimes() -> None:
    with pytest.raises(InvalidCycleDates, match="calendar date"):
        Cycle.start(
            id=uuid4(),
            name="2026-Q1",
            starts_on=datetime(2026, 1, 1, tzinfo=UTC),
            ends_on=date(2026, 3, 31),
        )


def test_closing_a_cycle_records_cycle_closed() -> None:
    cycle = q4()

    cycle.close()

    assert cycle.closed
    assert [type(e).__name__ for e in cycle.collect_events()] == ["CycleStarted", "CycleClosed"]


def test_closing_a_closed_cycle_is_refused_and_changes_nothing() -> None:
    cycle = q4()
    cycle.close()

    assert_refused(cycle, cycle.close, CycleAlreadyClosed)
    assert CycleAlreadyClosed.code == "INVALID_STATE"


def test_reopening_a_closed_cycle_with_a_reason_records_cycle_reopened() -> None:
    cycle = q4()
    cycle.close()

    cycle.reopen("A check-in of 30 December was lost in an outage")

    assert not cycle.closed
    names = [type(e).__name__ for e in cycle.collect_events()]
    assert names == ["CycleStarted", "CycleClosed", "CycleReopened"]


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reopening_without_a_reason_is_refused_and_changes_nothing(reason: str | None) -> None:
    cycle = q4()
    cycle.close()

    assert_refused(cycle, lambda: cycle.reopen(reason), ReasonRequired)
    with pytest.raises(ReasonRequired) as caught:
        cycle.reopen(reason)
    assert (caught.value.code, caught.value.field) == ("REASON_REQUIRED", "reason")


def test_reopening_an_open_cycle_is_refused() -> None:
    cycle = q4()

    assert_refused(cycle, lambda: cycle.reopen("why not"), CycleNotClosed)
    assert CycleNotClosed.code == "INVALID_STATE"


def test_a_reopened_cycle_can_be_closed_again() -> None:
    cycle = q4()
    cycle.close()
    cycle.reopen("late check-in")

    cycle.close()

    assert cycle.closed


def test_replaying_cycle_events_rebuilds_the_cycle() -> None:
    cycle = q4()
    cycle.close()
    cycle.reopen("late check-in")
    cycle.close()
    events = cycle.collect_events()

    replayed: Any = None
    for event in events:
        replayed = event.mutate(replayed)

    assert replayed == cycle
