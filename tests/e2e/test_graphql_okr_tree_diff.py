"""okrTreeDiff over the API: what changed in a cycle's tree since the last business review."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from okrledger.services.identity import Role
from tests.e2e.okr_steps import OBJECTIVE, add_key_result, set_objective, start_cycle
from tests.e2e.read_steps import check_in, read, refused, revise_target
from tests.e2e.server import Api, ApiClient, as_caller

DIFF = """query($cycle: UUID!, $from: AsOfInput!, $to: AsOfInput!) {
  okrTreeDiff(cycle: $cycle, from: $from, to: $to) {
    cycle { id }
    addedObjectives { id title parentId }
    removedObjectives { id title }
    realignedObjectives { objectiveId title parentId { from to } }
    retitledObjectives { objectiveId title { from to } }
    addedKeyResults { id objectiveId title target }
    removedKeyResults { id }
    revisedKeyResults { keyResultId title { from to } metric { from to }
                        start { from to } target { from to } weight { from to } }
    objectiveProgress { objectiveId progress { from to } rolledUpProgress { from to } }
    keyResultProgress { keyResultId current { from to } progress { from to } }
  } }"""
# A position past the tenant's head reads the tree as it is now.
LATER = 2_000_000_000


@pytest.fixture
def auditor(client: ApiClient, tenant: str) -> Api:
    return as_caller(client, tenant, Role.AUDITOR)


async def position_now(api: Api, objective_id: str) -> int:
    """The tenant's position after one more change (a new description): the review."""
    result = await api.mutate(
        "reviseObjective", {"objectiveId": objective_id, "description": "reviewed"}, OBJECTIVE
    )
    position: int = result["position"]
    return position


async def diff(api: Api, cycle: str, start: int, end: int | None = None) -> dict[str, Any]:
    to = {"position": end if end is not None else LATER}
    data = await read(api, DIFF, cycle=cycle, **{"from": {"position": start}, "to": to})
    found: dict[str, Any] = data["okrTreeDiff"]
    return found


async def test_objectives_set_or_archived_since_the_review_are_added_or_removed(
    editor: Api, auditor: Api
) -> None:
    cycle = await start_cycle(editor)
    old = await set_objective(editor, cycle["id"], title="Old goal")
    review = await position_now(editor, old["id"])
    new = await set_objective(editor, cycle["id"], title="New goal")
    await editor.mutate("archiveObjective", {"objectiveId": old["id"]}, OBJECTIVE)
    after = await position_now(editor, new["id"])

    found = await diff(auditor, cycle["id"], review, after)

    assert found["cycle"]["id"] == cycle["id"]
    assert found["addedObjectives"] == [{"id": new["id"], "title": "New goal", "parentId": None}]
    assert found["removedObjectives"] == [{"id": old["id"], "title": "Old goal"}]


async def test_a_retitled_and_realigned_objective_shows_both_from_and_to(
    editor: Api, auditor: Api
) -> None:
    cycle = await start_cycle(editor)
    company = await set_objective(editor, cycle["id"], title="Company")
    team = await set_objective(editor, cycle["id"], title="Team")
    review = await position_now(editor, team["id"])
    await editor.mutate("reviseObjective", {"objectiveId": team["id"], "title": "Squad"}, OBJECTIVE)
    aligned = await editor.mutate(
        "alignObjective", {"objectiveId": team["id"], "parentId": company["id"]}, OBJECTIVE
    )

    found = await diff(auditor, cycle["id"], review, aligned["position"])

    assert found["retitledObjectives"] == [
        {"objectiveId": team["id"], "title": {"from": "Team", "to": "Squad"}}
    ]
    assert found["realignedObjectives"] == [
        {
            "objectiveId": team["id"],
            "title": "Squad",
            "parentId": {"from": None, "to": company["id"]},
        }
    ]
    assert found["addedObjectives"] == found["removedObjectives"] == []


async def test_a_moved_target_and_a_check_in_show_as_revision_and_progress_deltas(
    editor: Api, auditor: Api
) -> None:
    cycle = await start_cycle(editor)
    objective = await set_objective(editor, cycle["id"])
    key_result = await add_key_result(editor, objective["id"])  # 31 -> 45, at 31
    review = await position_now(editor, objective["id"])
    await revise_target(editor, objective["id"], key_result["id"], "41", "market fell")
    checked = await check_in(editor, objective["id"], key_result["id"], "36")  # half way

    found = await diff(auditor, cycle["id"], review, checked["position"])

    [revision] = found["revisedKeyResults"]
    assert revision == {
        "keyResultId": key_result["id"],
        "title": None,
        "metric": None,
        "start": None,
        "target": {"from": "45", "to": "41"},
        "weight": None,
    }
    [kr_delta] = found["keyResultProgress"]
    assert kr_delta["current"] == {"from": "31", "to": "36"}
    assert Decimal(kr_delta["progress"]["from"]) == 0
    assert Decimal(kr_delta["progress"]["to"]) == Decimal("0.5")
    [objective_delta] = found["objectiveProgress"]
    assert objective_delta["objectiveId"] == objective["id"]
    assert Decimal(objective_delta["rolledUpProgress"]["to"]) == Decimal("0.5")


async def test_a_cycle_started_after_from_is_diffed_from_an_empty_tree(
    editor: Api, auditor: Api
) -> None:
    cycle = await start_cycle(editor)
    objective = await set_objective(editor, cycle["id"], title="Fresh")
    await add_key_result(editor, objective["id"])

    found = await diff(auditor, cycle["id"], 0)

    assert [o["title"] for o in found["addedObjectives"]] == ["Fresh"]
    assert [k["title"] for k in found["addedKeyResults"]] == ["Raise NPS"]


async def test_to_before_from_is_refused_as_a_validation_error(editor: Api, auditor: Api) -> None:
    objective = await set_objective(editor)

    error = await refused(
        auditor,
        DIFF,
        cycle=objective["cycleId"],
        **{"from": {"position": 5}, "to": {"position": 2}},
    )

    assert error["extensions"] == {"code": "VALIDATION", "field": "to"}


async def test_a_from_time_without_a_time_zone_is_refused_as_a_validation_error(
    editor: Api, auditor: Api
) -> None:
    objective = await set_objective(editor)

    error = await refused(
        auditor,
        DIFF,
        cycle=objective["cycleId"],
        **{"from": {"time": "2026-11-01T00:00:00"}, "to": {"time": "2026-12-01T00:00:00Z"}},
    )

    assert error["extensions"] == {"code": "VALIDATION", "field": "from"}


async def test_a_time_and_a_position_together_are_refused(editor: Api, auditor: Api) -> None:
    objective = await set_objective(editor)

    error = await refused(
        auditor,
        DIFF,
        cycle=objective["cycleId"],
        **{"from": {"position": 1}, "to": {"time": "2026-12-01T00:00:00Z"}},
    )

    assert error["extensions"] == {"code": "VALIDATION", "field": "to"}


async def test_another_tenants_cycle_reads_as_null(
    auditor: Api, client: ApiClient, other_tenant: str
) -> None:
    theirs = await set_objective(as_caller(client, other_tenant, Role.EDITOR))

    found = await read(
        auditor,
        DIFF,
        cycle=theirs["cycleId"],
        **{"from": {"position": 0}, "to": {"position": 100}},
    )

    assert found["okrTreeDiff"] is None


async def test_an_editor_may_not_read_the_diff(editor: Api) -> None:
    objective = await set_objective(editor)

    error = await refused(
        editor, DIFF, cycle=objective["cycleId"], **{"from": {"position": 0}, "to": {"position": 9}}
    )

    assert error["extensions"]["code"] == "FORBIDDEN"
