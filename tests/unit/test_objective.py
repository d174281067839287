from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from okrledger.domain.alignment import (
    AlignmentCycle,
    ParentObjectiveArchived,
    ParentObjectiveNotFound,
    SelfAlignment,
)
from okrledger.domain.errors import DomainError, InvalidValue
from okrledger.domain.objective import (
    Confidence,
    CycleIsClosed,
    InvalidGrade,
    MetricKind,
    Objective,
    ObjectiveIsArchived,
    ObjectiveIsClosed,
    ObjectiveNotActive,
    ObjectiveNotArchived,
    ObjectiveNotDraft,
    ObjectiveNotGradable,
    ObjectiveStatus,
)
from okrledger.domain.progress import PaceStatus, objective_progress, pace

BASE = {"originator_id", "originator_version", "timestamp", "originator_topic"}
CYCLE = uuid4()


def payload(event: object) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k not in BASE}


def names(objective: Objective) -> list[str]:
    return [type(e).__name__ for e in objective.pending_events]


def new_objective(title: str = "Give customers an excellent experience") -> Objective:
    return Objective.set(
        id=uuid4(),
        title=title,
        description="",
        cycle_id=CYCLE,
        owner="alice",
        cycle_closed=False,
    )


def active_objective() -> Objective:
    objective = new_objective()
    objective.activate()
    return objective


def tree(*objectives: Objective) -> dict[UUID, UUID | None]:
    return {o.id: o.parent_id for o in objectives}


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


def test_setting_an_objective_records_objective_set_as_a_draft_under_the_given_id() -> None:
    objective_id = uuid4()

    objective = Objective.set(
        id=objective_id,
        title="  Give customers an excellent experience ",
        description="Delight them",
        cycle_id=CYCLE,
        owner="alice",
        team="support",
        cycle_closed=False,
    )

    assert objective.id == objective_id
    assert objective.status is ObjectiveStatus.DRAFT
    [event] = objective.pending_events
    assert type(event).__name__ == "ObjectiveSet"
    assert payload(event) == {
        "title": "Give customers an excellent experience",
        "description": "Delight them",
        "cycle_id": CYCLE,
        "owner": "alice",
        "team": "support",
        "parent_id": None,
    }


def test_objective_with_blank_title_is_refused() -> None:
    with pytest.raises(InvalidValue, match="title must not be empty"):
        Objective.set(
            id=uuid4(), title=" ", description="", cycle_id=CYCLE, owner="a", cycle_closed=False
        )


def test_objective_cannot_be_set_in_a_closed_cycle() -> None:
    with pytest.raises(CycleIsClosed, match="cycle is closed"):
        Objective.set(
            id=uuid4(), title="T", description="", cycle_id=CYCLE, owner="a", cycle_closed=True
        )


def test_objective_can_be_set_under_an_existing_parent() -> None:
    company = new_objective("Company")

    team = Objective.set(
        id=uuid4(),
        title="Team",
        description="",
        cycle_id=CYCLE,
        owner="bob",
        parent_id=company.id,
        cycle_closed=False,
        parent_of=tree(company),
    )

    assert team.parent_id == company.id


def test_objective_cannot_be_set_under_an_unknown_parent() -> None:
    with pytest.raises(ParentObjectiveNotFound):
        Objective.set(
            id=uuid4(),
            title="Team",
            description="",
            cycle_id=CYCLE,
            owner="bob",
            parent_id=uuid4(),
            cycle_closed=False,
        )


def test_revising_records_only_the_changed_fields() -> None:
    objective = new_objective()

    objective.revise(
        title="Give customers an excellent experience", description="NPS", cycle_closed=False
    )

    assert payload(objective.pending_events[-1]) == {"title": None, "description": "NPS"}
    assert objective.description == "NPS"


def test_revising_without_a_change_records_nothing() -> None:
    objective = new_objective()

    objective.revise(title=" Give customers an excellent experience", cycle_closed=False)

    assert names(objective) == ["ObjectiveSet"]


def test_revising_is_refused_when_the_cycle_is_closed() -> None:
    objective = active_objective()

    error = assert_refused(
        objective, lambda: objective.revise(title="New", cycle_closed=True), CycleIsClosed
    )
    assert error.code == "CYCLE_CLOSED"
    assert "can be graded, not revised" in error.message


def test_revising_a_closed_objective_is_refused() -> None:
    objective = active_objective()
    objective.close()

    assert_refused(
        objective, lambda: objective.revise(title="New", cycle_closed=False), ObjectiveIsClosed
    )


def test_assigning_an_owner_records_owner_and_team() -> None:
    objective = new_objective()

    objective.assign_owner("bob", team="growth")

    assert (objective.owner, objective.team) == ("bob", "growth")
    assert payload(objective.pending_events[-1]) == {"owner": "bob", "team": "growth"}


def test_assigning_the_same_owner_records_nothing() -> None:
    objective = new_objective()

    objective.assign_owner(" alice ")

    assert names(objective) == ["ObjectiveSet"]


def test_aligning_under_a_parent_and_detaching_again() -> None:
    company, team = new_objective("Company"), new_objective("Team")

    team.align(company.id, parent_of=tree(company, team))
    team.align(None, parent_of=tree(company, team))

    assert team.parent_id is None
    assert names(team)[-2:] == ["ObjectiveAligned", "ObjectiveAligned"]
    assert [payload(e) for e in team.pending_events[-2:]] == [
        {"parent_id": company.id},
        {"parent_id": None},
    ]


def test_aligning_under_the_current_parent_records_nothing() -> None:
    company, team = new_objective("Company"), new_objective("Team")
    team.align(company.id, parent_of=tree(company, team))
    pending = len(team.pending_events)

    team.align(company.id, parent_of=tree(company, team))

    assert len(team.pending_events) == pending


def test_aligning_under_itself_is_refused() -> None:
    objective = new_objective()

    assert_refused(
        objective, lambda: objective.align(objective.id, parent_of=tree(objective)), SelfAlignment
    )


def test_aligning_under_a_descendant_is_refused() -> None:
    company, team = new_objective("Company"), new_objective("Team")
    team.align(company.id, parent_of=tree(company, team))

    assert_refused(
        company, lambda: company.align(team.id, parent_of=tree(company, team)), AlignmentCycle
    )


def test_aligning_under_an_archived_parent_is_refused() -> None:
    company, team = new_objective("Company"), new_objective("Team")

    assert_refused(
        team,
        lambda: team.align(company.id, parent_of=tree(company, team), archived={company.id}),
        ParentObjectiveArchived,
    )


def test_activating_a_draft_records_objective_activated() -> None:
    objective = new_objective()

    objective.activate()

    assert objective.status is ObjectiveStatus.ACTIVE
    assert names(objective)[-1] == "ObjectiveActivated"


def test_activating_twice_is_refused() -> None:
    objective = active_objective()

    error = assert_refused(objective, objective.activate, ObjectiveNotDraft)
    assert error.message.endswith("is active; only a draft can be activated")


def test_grading_records_score_and_retrospective() -> None:
    objective = active_objective()

    objective.grade(Decimal("0.7"), "Good stretch")

    assert (objective.score, objective.retrospective) == (Decimal("0.7"), "Good stretch")
    assert payload(objective.pending_events[-1]) == {
        "score": Decimal("0.7"),
        "retrospective": "Good stretch",
    }


def test_a_closed_objective_can_still_be_graded() -> None:
    objective = active_objective()
    objective.close()

    objective.grade(Decimal("0.4"))

    assert objective.score == Decimal("0.4")


def test_grading_a_draft_is_refused() -> None:
    objective = new_objective()

    assert_refused(objective, lambda: objective.grade(Decimal("0.5")), ObjectiveNotGradable)


@pytest.mark.parametrize("score", ["-0.1", "1.01", "NaN", "Infinity"])
def test_grade_outside_zero_to_one_is_refused(score: str) -> None:
    objective = active_objective()

    assert_refused(objective, lambda: objective.grade(Decimal(score)), InvalidValue)


def test_grade_error_names_the_range() -> None:
    objective = active_objective()

    error = assert_refused(objective, lambda: objective.grade(2), InvalidGrade)
    assert (error.message, error.field) == ("A grade is from 0.0 to 1.0, got 2", "score")


def test_closing_an_active_objective_records_objective_closed() -> None:
    objective = active_objective()

    objective.close()

    assert objective.status is ObjectiveStatus.CLOSED
    assert names(objective)[-1] == "ObjectiveClosed"


def test_closing_a_draft_is_refused() -> None:
    objective = new_objective()

    assert_refused(objective, objective.close, ObjectiveNotActive)


def test_archiving_and_restoring_returns_to_the_previous_status() -> None:
    objective = active_objective()

    objective.archive()
    archived_status = objective.status
    objective.restore()

    assert (archived_status, objective.status) == (ObjectiveStatus.ARCHIVED, ObjectiveStatus.ACTIVE)
    assert names(objective)[-2:] == ["ObjectiveArchived", "ObjectiveRestored"]


def test_restoring_an_objective_that_is_not_archived_is_refused() -> None:
    objective = new_objective()

    assert_refused(objective, objective.restore, ObjectiveNotArchived)


ARCHIVED_COMMANDS: dict[str, Callable[[Objective], object]] = {
    "revise": lambda o: o.revise(title="New", cycle_closed=False),
    "assign_owner": lambda o: o.assign_owner("bob"),
    "align": lambda o: o.align(None, parent_of=tree(o)),
    "activate": lambda o: o.activate(),
    "grade": lambda o: o.grade(Decimal("0.5")),
    "close": lambda o: o.close(),
    "archive": lambda o: o.archive(),
    "add_key_result": lambda o: o.add_key_result(
        key_result_id=uuid4(),
        title="KR",
        metric=MetricKind.NUMBER,
        start=0,
        target=1,
        cycle_closed=False,
    ),
    "check_in": lambda o: o.check_in_key_result(
        key_result_id=next(iter(o.key_results)), value=1, confidence=Confidence.ON_TRACK
    ),
    "link": lambda o: o.link_key_result_to_kpi(next(iter(o.key_results)), uuid4()),
}


@pytest.mark.parametrize("command", ARCHIVED_COMMANDS.values(), ids=ARCHIVED_COMMANDS.keys())
def test_an_archived_objective_takes_no_edits(command: Callable[[Objective], object]) -> None:
    objective = active_objective()
    objective.add_key_result(
        key_result_id=uuid4(),
        title="KR",
        metric=MetricKind.NUMBER,
        start=0,
        target=10,
        cycle_closed=False,
    )
    objective.archive()

    error = assert_refused(objective, lambda: command(objective), ObjectiveIsArchived)
    assert "restore it" in error.message


def test_seo_seed_example() -> None:
    # Given a company objective and a marketing objective for Q4
    company = new_objective("Grow the business")
    company.activate()
    seo = new_objective("Boost company website's SEO performance")
    blog, backlinks = uuid4(), uuid4()
    seo.add_key_result(
        key_result_id=blog,
        title="Double monthly blog output from 4 to 8",
        metric=MetricKind.NUMBER,
        start=4,
        target=8,
        unit="posts",
        cycle_closed=False,
    )
    seo.add_key_result(
        key_result_id=backlinks,
        title="Gain 15 backlinks in the next six months",
        metric=MetricKind.NUMBER,
        start=0,
        target=15,
        cycle_closed=False,
    )
    seo.activate()
    # When the team checks in, aligns the objective and grades it at the end
    seo.check_in_key_result(key_result_id=blog, value=6, confidence=Confidence.ON_TRACK)
    seo.check_in_key_result(
        key_result_id=backlinks, value=3, confidence=Confidence.AT_RISK, note="Slow outreach"
    )
    seo.align(company.id, parent_of=tree(company, seo))
    now = datetime(2026, 11, 15, 12, tzinfo=UTC)
    progress = objective_progress(seo.key_results.values())
    pace_then = pace(progress, date(2026, 10, 1), date(2026, 12, 31), now)
    seo.close()
    seo.grade(Decimal("0.6"), "Blog cadence good; backlinks need a partner program")

    # Then
    assert progress == Decimal("0.35")  # (0.5 + 0.2) / 2
    assert pace_then is PaceStatus.AT_RISK  # half the cycle gone, 0.35 done
    assert seo.parent_id == company.id
    assert seo.status is ObjectiveStatus.CLOSED
    assert seo.score == Decimal("0.6")
    assert names(seo) == [
        "ObjectiveSet",
        "KeyResultAdded",
        "KeyResultAdded",
        "ObjectiveActivated",
        "KeyResultCheckedIn",
        "KeyResultCheckedIn",
        "ObjectiveAligned",
        "ObjectiveClosed",
        "ObjectiveGraded",
    ]
