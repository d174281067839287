"""Every OKR mutation over real HTTP: its payload on success."""

from __future__ import annotations

from uuid import uuid4

from tests.e2e.okr_steps import (
    CYCLE,
    OBJECTIVE,
    activate,
    add_key_result,
    set_objective,
    start_cycle,
)
from tests.e2e.server import Api


async def test_start_cycle_answers_with_the_cycle_its_version_and_the_tenant_position(
    editor: Api,
) -> None:
    result = await editor.mutate(
        "startCycle",
        {"name": "2026-Q4", "startsOn": "2026-10-01", "endsOn": "2026-12-31"},
        CYCLE,
    )

    assert result["__typename"] == "StartCyclePayload"
    assert result["cycle"]["name"] == "2026-Q4"
    assert result["cycle"]["startsOn"] == "2026-10-01"
    assert result["cycle"]["closed"] is False
    assert result["version"] == result["cycle"]["version"] == 1
    assert result["position"] >= 1


async def test_close_cycle_closes_it(editor: Api) -> None:
    cycle = await start_cycle(editor)

    result = await editor.mutate("closeCycle", {"cycleId": cycle["id"]}, CYCLE)

    assert result["__typename"] == "CloseCyclePayload"
    assert result["cycle"]["closed"] is True
    assert result["version"] == 2


async def test_set_objective_sets_a_draft_in_the_cycle(editor: Api) -> None:
    cycle = await start_cycle(editor)

    result = await editor.mutate(
        "setObjective",
        {"cycleId": cycle["id"], "title": " Delight customers ", "owner": "ana", "team": "cx"},
        OBJECTIVE,
    )

    assert result["__typename"] == "SetObjectivePayload"
    objective = result["objective"]
    assert (objective["title"], objective["owner"], objective["team"]) == (
        "Delight customers",
        "ana",
        "cx",
    )
    assert objective["cycleId"] == cycle["id"]
    assert objective["status"] == "DRAFT"
    assert objective["keyResults"] == []


async def test_revise_objective_changes_its_title(editor: Api) -> None:
    objective = await set_objective(editor)

    result = await editor.mutate(
        "reviseObjective",
        {"objectiveId": objective["id"], "title": "Wow customers", "expectedVersion": 1},
        OBJECTIVE,
    )

    assert result["__typename"] == "ReviseObjectivePayload"
    assert result["objective"]["title"] == "Wow customers"
    assert result["objective"]["description"] == ""
    assert result["version"] == 2


async def test_assign_objective_owner_hands_it_over(editor: Api) -> None:
    objective = await set_objective(editor)

    result = await editor.mutate(
        "assignObjectiveOwner",
        {"objectiveId": objective["id"], "owner": "bo", "team": "growth"},
        OBJECTIVE,
    )

    assert result["__typename"] == "AssignObjectiveOwnerPayload"
    assert (result["objective"]["owner"], result["objective"]["team"]) == ("bo", "growth")


async def test_align_objective_puts_it_under_a_parent(editor: Api) -> None:
    parent = await set_objective(editor)
    child = await set_objective(editor, parent["cycleId"])

    result = await editor.mutate(
        "alignObjective", {"objectiveId": child["id"], "parentId": parent["id"]}, OBJECTIVE
    )

    assert result["__typename"] == "AlignObjectivePayload"
    assert result["objective"]["parentId"] == parent["id"]


async def test_activate_objective_makes_a_draft_active(editor: Api) -> None:
    objective = await set_objective(editor)

    result = await editor.mutate("activateObjective", {"objectiveId": objective["id"]}, OBJECTIVE)

    assert result["__typename"] == "ActivateObjectivePayload"
    assert result["objective"]["status"] == "ACTIVE"


async def test_grade_objective_records_score_and_retrospective(editor: Api) -> None:
    objective = await activate(editor, (await set_objective(editor))["id"])

    result = await editor.mutate(
        "gradeObjective",
        {"objectiveId": objective["id"], "score": "0.7", "retrospective": "good stretch"},
        OBJECTIVE,
    )

    assert result["__typename"] == "GradeObjectivePayload"
    assert result["objective"]["score"] == "0.7"
    assert result["objective"]["retrospective"] == "good stretch"


async def test_close_objective_closes_an_active_one(editor: Api) -> None:
    objective = await activate(editor, (await set_objective(editor))["id"])

    result = await editor.mutate("closeObjective", {"objectiveId": objective["id"]}, OBJECTIVE)

    assert result["__typename"] == "CloseObjectivePayload"
    assert result["objective"]["status"] == "CLOSED"


async def test_archive_objective_archives_it(editor: Api) -> None:
    objective = await set_objective(editor)

    result = await editor.mutate("archiveObjective", {"objectiveId": objective["id"]}, OBJECTIVE)

    assert result["__typename"] == "ArchiveObjectivePayload"
    assert result["objective"]["status"] == "ARCHIVED"


async def test_restore_objective_brings_back_its_former_status(editor: Api) -> None:
    objective = await activate(editor, (await set_objective(editor))["id"])
    await editor.mutate("archiveObjective", {"objectiveId": objective["id"]}, OBJECTIVE)

    result = await editor.mutate("restoreObjective", {"objectiveId": objective["id"]}, OBJECTIVE)

    assert result["__typename"] == "RestoreObjectivePayload"
    assert result["objective"]["status"] == "ACTIVE"


async def test_add_key_result_adds_it_with_current_at_start(editor: Api) -> None:
    objective = await set_objective(editor)

    result = await editor.mutate(
        "addKeyResult",
        {
            "objectiveId": objective["id"],
            "title": "Revenue",
            "metric": "CURRENCY",
            "start": "1000.50",
            "target": "2500",
            "currency": "eur",
        },
        OBJECTIVE,
    )

    assert result["__typename"] == "AddKeyResultPayload"
    [key_result] = result["objective"]["keyResults"]
    assert key_result["metric"] == "CURRENCY"
    assert (key_result["start"], key_result["target"], key_result["current"]) == (
        "1000.5",
        "2500",
        "1000.5",
    )
    assert key_result["currency"] == "EUR"
    assert key_result["objectiveId"] == objective["id"]


async def test_revise_key_result_changes_its_target(editor: Api) -> None:
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])

    result = await editor.mutate(
        "reviseKeyResult",
        {
            "objectiveId": objective["id"],
            "keyResultId": key_result["id"],
            "target": "50",
            "reason": "Stretch further",
        },
        OBJECTIVE,
    )

    assert result["__typename"] == "ReviseKeyResultPayload"
    assert result["objective"]["keyResults"][0]["target"] == "50"


async def test_remove_key_result_removes_it(editor: Api) -> None:
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])

    result = await editor.mutate(
        "removeKeyResult",
        {"objectiveId": objective["id"], "keyResultId": key_result["id"]},
        OBJECTIVE,
    )

    assert result["__typename"] == "RemoveKeyResultPayload"
    assert result["objective"]["keyResults"] == []


async def test_check_in_key_result_records_value_confidence_and_note(editor: Api) -> None:
    objective = await activate(editor, (await set_objective(editor))["id"])
    key_result = await add_key_result(editor, objective["id"])

    result = await editor.mutate(
        "checkInKeyResult",
        {
            "objectiveId": objective["id"],
            "keyResultId": key_result["id"],
            "value": "38",
            "confidence": "AT_RISK",
            "note": "survey delayed",
        },
        OBJECTIVE,
    )

    assert result["__typename"] == "CheckInKeyResultPayload"
    [checked] = result["objective"]["keyResults"]
    assert (checked["current"], checked["confidence"], checked["note"]) == (
        "38",
        "AT_RISK",
        "survey delayed",
    )


async def test_set_okr_policy_sets_the_tenant_rules(admin: Api) -> None:
    result = await admin.mutate(
        "setOkrPolicy",
        {"maxKeyResults": 3, "allowPercentStretch": True},
        "... on SetOkrPolicyPayload { version position policy { maxKeyResults "
        "allowPercentStretch version } }",
    )

    assert result["__typename"] == "SetOkrPolicyPayload"
    assert result["policy"] == {"maxKeyResults": 3, "allowPercentStretch": True, "version": 1}


async def test_a_retry_with_the_same_command_id_changes_nothing_twice(editor: Api) -> None:
    objective = await set_objective(editor)
    command_id = f"cmd-{uuid4()}"
    given = {"objectiveId": objective["id"], "owner": "bo", "commandId": command_id}

    first = await editor.mutate("assignObjectiveOwner", given, OBJECTIVE)
    retried = await editor.mutate("assignObjectiveOwner", given, OBJECTIVE)

    assert first["__typename"] == retried["__typename"] == "AssignObjectiveOwnerPayload"
    assert (retried["version"], retried["position"]) == (first["version"], first["position"])
