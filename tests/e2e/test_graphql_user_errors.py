"""Expected refusals come back as typed members of each mutation's result union."""

from __future__ import annotations

from uuid import uuid4

from tests.e2e.okr_steps import CYCLE, OBJECTIVE, activate, set_objective, start_cycle
from tests.e2e.server import Api

VERSION_CONFLICT = "... on VersionConflictError { actualVersion }"


async def test_a_taken_cycle_name_is_an_already_exists_error_on_name(editor: Api) -> None:
    await start_cycle(editor, "2026-Q4")

    result = await editor.mutate(
        "startCycle", {"name": "2026-q4", "startsOn": "2027-01-01", "endsOn": "2027-03-31"}, CYCLE
    )

    assert result["__typename"] == "AlreadyExistsError"
    assert (result["code"], result["field"]) == ("ALREADY_EXISTS", "name")


async def test_dates_out_of_order_are_a_validation_error_on_ends_on(editor: Api) -> None:
    result = await editor.mutate(
        "startCycle", {"name": "Q", "startsOn": "2026-12-31", "endsOn": "2026-10-01"}, CYCLE
    )

    assert result["__typename"] == "ValidationError"
    assert (result["code"], result["field"]) == ("VALIDATION", "endsOn")
    assert "end after it starts" in result["message"]


async def test_a_non_finite_value_is_a_validation_error(editor: Api) -> None:
    objective = await activate(editor, (await set_objective(editor))["id"])

    result = await editor.mutate(
        "gradeObjective", {"objectiveId": objective["id"], "score": "NaN"}, OBJECTIVE
    )

    assert result["__typename"] == "ValidationError"
    assert result["field"] == "score"


async def test_an_unknown_cycle_is_a_not_found_error_on_cycle_id(editor: Api) -> None:
    result = await editor.mutate(
        "setObjective", {"cycleId": str(uuid4()), "title": "T", "owner": "ana"}, OBJECTIVE
    )

    assert result["__typename"] == "NotFoundError"
    assert (result["code"], result["field"]) == ("NOT_FOUND", "cycleId")


async def test_an_unknown_objective_is_a_not_found_error_on_objective_id(editor: Api) -> None:
    result = await editor.mutate("closeObjective", {"objectiveId": str(uuid4())}, OBJECTIVE)

    assert result["__typename"] == "NotFoundError"
    assert (result["code"], result["field"]) == ("NOT_FOUND", "objectiveId")


async def test_an_unknown_key_result_is_a_not_found_error_on_key_result_id(editor: Api) -> None:
    objective = await set_objective(editor)

    result = await editor.mutate(
        "removeKeyResult", {"objectiveId": objective["id"], "keyResultId": str(uuid4())}, OBJECTIVE
    )

    assert result["__typename"] == "NotFoundError"
    assert result["field"] == "keyResultId"


async def test_a_stale_expected_version_is_a_version_conflict_naming_the_current_one(
    editor: Api,
) -> None:
    objective = await set_objective(editor)
    await editor.mutate(
        "reviseObjective", {"objectiveId": objective["id"], "title": "B"}, OBJECTIVE
    )

    result = await editor.mutate(
        "reviseObjective",
        {"objectiveId": objective["id"], "title": "C", "expectedVersion": 1},
        VERSION_CONFLICT,
    )

    assert result["__typename"] == "VersionConflictError"
    assert (result["code"], result["field"]) == ("VERSION_CONFLICT", "expectedVersion")
    assert result["actualVersion"] == 2


async def test_activating_an_active_objective_is_an_invalid_state_error(editor: Api) -> None:
    objective = await activate(editor, (await set_objective(editor))["id"])

    result = await editor.mutate("activateObjective", {"objectiveId": objective["id"]}, OBJECTIVE)

    assert result["__typename"] == "InvalidStateError"
    assert result["code"] == "INVALID_STATE"


async def test_a_refused_command_changes_nothing(editor: Api) -> None:
    objective = await set_objective(editor)
    await editor.mutate("archiveObjective", {"objectiveId": objective["id"]}, OBJECTIVE)

    refused = await editor.mutate(
        "reviseObjective", {"objectiveId": objective["id"], "title": "Nope"}, OBJECTIVE
    )
    restored = await editor.mutate("restoreObjective", {"objectiveId": objective["id"]}, OBJECTIVE)

    assert refused["__typename"] == "InvalidStateError"
    assert restored["objective"]["title"] == "Delight customers"
    assert restored["version"] == 3


async def test_an_invalid_uuid_variable_is_reported_not_masked(editor: Api) -> None:
    body = await editor.post(
        "mutation($input: ActivateObjectiveInput!) { activateObjective(input: $input) "
        "{ __typename } }",
        {"input": {"objectiveId": "not-a-uuid"}},
    )

    assert body["data"] is None
    assert "objectiveId" in body["errors"][0]["message"]


async def test_a_new_cycle_cannot_expect_a_version_above_zero(editor: Api) -> None:
    given = {"name": "Q", "startsOn": "2026-10-01", "endsOn": "2026-12-31", "expectedVersion": 2}

    refused = await editor.mutate("startCycle", given, CYCLE)
    started = await editor.mutate("startCycle", {**given, "expectedVersion": 0}, CYCLE)

    assert refused["__typename"] == "ValidationError"
    assert refused["field"] == "expectedVersion"
    assert started["__typename"] == "StartCyclePayload"
