"""A closed cycle is frozen: its open objectives are settled (closed with it), every change
to their content or progress is refused with CYCLE_CLOSED, grading still works, and a
settled objective can be activated again once its cycle is reopened."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from okrledger.domain.errors import DomainError
from okrledger.domain.objective import (
    Confidence,
    CycleIsClosed,
    MetricKind,
    Objective,
    ObjectiveIsClosed,
    ObjectiveStatus,
)

CYCLE = uuid4()
KPI = uuid4()
BASE = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def payload(event: object) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k not in BASE}


def objective_with_key_result(*, active: bool = True) -> tuple[Objective, UUID]:
    objective = Objective.set(
        id=uuid4(), title="Delight customers", description="", cycle_id=CYCLE, owner="a",
        cycle_closed=False,
    )  # fmt: skip
    kr = uuid4()
    objective.add_key_result(
        key_result_id=kr, title="NPS", metric=MetricKind.NUMBER, start=31, target=45,
        cycle_closed=False,
    )  # fmt: skip
    objective.link_key_result_to_kpi(kr, KPI)
    if active:
        objective.activate()
    objective.collect_events()
    return objective, kr


def assert_refused(
    objective: Objective, command: Callable[[], object], error: type[DomainError]
) -> DomainError:
    before = {k: copy.deepcopy(v) for k, v in vars(objective).items() if k != "_pending_events"}
    with pytest.raises(error) as caught:
        command()
    assert {k: v for k, v in vars(objective).items() if k != "_pending_events"} == before
    assert objective.pending_events == []
    return caught.value


def test_settling_an_active_objective_closes_it_with_its_cycle() -> None:
    objective, _ = objective_with_key_result()

    objective.settle()

    assert objective.status is ObjectiveStatus.CLOSED
    [settled] = objective.collect_events()
    assert type(settled).__name__ == "ObjectiveSettled"
    assert payload(settled) == {"cycle_id": CYCLE, "settled_from": ObjectiveStatus.ACTIVE}


def test_settling_a_draft_closes_it_too() -> None:
    objective, _ = objective_with_key_result(active=False)

    objective.settle()

    assert objective.status is ObjectiveStatus.CLOSED
    [settled] = objective.collect_events()
    assert settled.settled_from is ObjectiveStatus.DRAFT  # type: ignore[attr-defined]


def test_settling_an_objective_already_closed_records_nothing() -> None:
    objective, _ = objective_with_key_result()
    objective.close()
    objective.collect_events()

    objective.settle()

    assert objective.collect_events() == []
    assert not objective.settled_by_cycle


def test_an_archived_open_objective_is_settled_and_restores_as_closed() -> None:
    objective, _ = objective_with_key_result()
    objective.archive()

    objective.settle()
    objective.restore()

    assert objective.status is ObjectiveStatus.CLOSED


def test_replaying_a_settled_objective_gives_the_same_state() -> None:
    objective = Objective.set(
        id=uuid4(), title="T", description="", cycle_id=CYCLE, owner="a", cycle_closed=False
    )
    objective.activate()
    objective.settle()
    replayed: Any = None
    for event in objective.collect_events():
        replayed = event.mutate(replayed)

    assert replayed == objective
    assert replayed.settled_by_cycle


CHANGES: dict[str, Callable[[Objective, UUID], object]] = {
    "revise": lambda o, kr: o.revise(title="New", cycle_closed=True),
    "add key result": lambda o, kr: o.add_key_result(
        key_result_id=uuid4(), title="K", metric=MetricKind.BOOLEAN, cycle_closed=True
    ),
    "revise key result": lambda o, kr: o.revise_key_result(
        key_result_id=kr, title="K2", cycle_closed=True
    ),
    "move a target": lambda o, kr: o.revise_key_result(
        key_result_id=kr, target=50, cycle_closed=True, cycle_started=True, reason="why"
    ),
    "remove key result": lambda o, kr: o.remove_key_result(kr, cycle_closed=True),
    "check in": lambda o, kr: o.check_in_key_result(
        key_result_id=kr, value=40, confidence=Confidence.ON_TRACK, cycle_closed=True
    ),
    "link to a KPI": lambda o, kr: o.link_key_result_to_kpi(kr, uuid4(), cycle_closed=True),
    "align": lambda o, kr: o.align(uuid4(), parent_of={}, cycle_closed=True),
    "activate": lambda o, kr: o.activate(cycle_closed=True),
}


@pytest.mark.parametrize("name", list(CHANGES))
@pytest.mark.parametrize("settled", [True, False], ids=["settled", "not-yet-settled"])
def test_every_change_to_an_objective_of_a_closed_cycle_is_refused_with_cycle_closed(
    name: str, settled: bool
) -> None:
    objective, kr = objective_with_key_result()
    if settled:
        objective.settle()
        objective.collect_events()

    error = assert_refused(objective, lambda: CHANGES[name](objective, kr), CycleIsClosed)

    assert error.code == "CYCLE_CLOSED"


def test_a_settled_objective_can_still_be_graded_with_a_retrospective() -> None:
    objective, _ = objective_with_key_result()
    objective.settle()

    objective.grade("0.7", "Good stretch; the outage cost us a point")

    assert (objective.score, objective.status) == (Decimal("0.7"), ObjectiveStatus.CLOSED)


def test_a_kpi_reading_does_not_move_a_key_result_of_a_closed_cycle() -> None:
    objective, kr = objective_with_key_result()

    objective.follow_kpi_reading(
        key_result_id=kr,
        kpi_id=KPI,
        reading_id=uuid4(),
        value=44,
        observed_at=datetime(2026, 12, 1, tzinfo=UTC),
        cycle_closed=True,
    )

    assert objective.collect_events() == []
    assert objective.key_result(kr).current == Decimal(31)


def test_a_kpi_correction_does_not_move_a_key_result_of_a_closed_cycle() -> None:
    objective, kr = objective_with_key_result()
    reading = uuid4()
    objective.follow_kpi_reading(
        key_result_id=kr, kpi_id=KPI, reading_id=reading, value=40,
        observed_at=datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip
    objective.collect_events()

    objective.follow_kpi_correction(
        key_result_id=kr, kpi_id=KPI, reading_id=reading, value=44, cycle_closed=True
    )

    assert objective.collect_events() == []
    assert objective.key_result(kr).current == Decimal(40)


def test_a_child_cannot_join_or_leave_a_parent_in_a_closed_cycle() -> None:
    frozen_parent, open_parent = uuid4(), uuid4()
    objective, _ = objective_with_key_result()

    joining = assert_refused(
        objective,
        lambda: objective.align(
            frozen_parent, parent_of={frozen_parent: None}, in_closed_cycles={frozen_parent}
        ),
        CycleIsClosed,
    )
    assert (joining.code, joining.field) == ("CYCLE_CLOSED", "parent_id")

    objective.align(frozen_parent, parent_of={frozen_parent: None})
    objective.collect_events()
    assert_refused(
        objective,
        lambda: objective.align(
            open_parent, parent_of={open_parent: None}, in_closed_cycles={frozen_parent}
        ),
        CycleIsClosed,
    )


def test_an_objective_cannot_be_set_under_a_parent_in_a_closed_cycle() -> None:
    parent = uuid4()

    with pytest.raises(CycleIsClosed) as caught:
        Objective.set(
            id=uuid4(), title="T", description="", cycle_id=CYCLE, owner="a",
            parent_id=parent, cycle_closed=False, parent_of={parent: None},
            in_closed_cycles={parent},
        )  # fmt: skip
    assert caught.value.field == "parent_id"


def test_owner_archive_and_unlink_still_work_in_a_closed_cycle() -> None:
    objective, kr = objective_with_key_result()
    objective.settle()

    objective.assign_owner("b")
    objective.unlink_key_result_from_kpi(kr)
    objective.archive()

    names = [type(e).__name__ for e in objective.collect_events()]
    assert names[1:] == ["ObjectiveOwnerAssigned", "KeyResultUnlinkedFromKPI", "ObjectiveArchived"]


def test_after_a_reopen_a_settled_objective_stays_closed_until_activated_again() -> None:
    objective, kr = objective_with_key_result()
    objective.settle()
    objective.collect_events()

    refused = assert_refused(
        objective,
        lambda: objective.check_in_key_result(
            key_result_id=kr, value=40, confidence=Confidence.ON_TRACK, cycle_closed=False
        ),
        ObjectiveIsClosed,
    )
    assert "activate it again" in refused.message

    objective.activate(cycle_closed=False)
    objective.check_in_key_result(
        key_result_id=kr, value=40, confidence=Confidence.ON_TRACK, cycle_closed=False
    )
    assert objective.status is ObjectiveStatus.ACTIVE
    assert objective.key_result(kr).current == Decimal(40)
    assert not objective.settled_by_cycle


def test_an_objective_a_person_closed_is_not_activated_again_after_a_reopen() -> None:
    objective, _ = objective_with_key_result()
    objective.close()
    objective.settle()
    objective.collect_events()

    with pytest.raises(DomainError):
        objective.activate(cycle_closed=False)
