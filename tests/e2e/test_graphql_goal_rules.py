"""Rules that keep goals meaning what they say, over HTTP: a milestone is done or not, and a
key result follows only a KPI that wants the same direction."""

from __future__ import annotations

from typing import Any

from tests.e2e.kpi_steps import define_kpi
from tests.e2e.okr_steps import OBJECTIVE, set_objective
from tests.e2e.read_steps import read
from tests.e2e.server import Api

KEY_RESULTS = "query($id: UUID!) { objective(id: $id) { version keyResults { id kpiId } } }"


async def add(api: Api, objective_id: str, **given: Any) -> dict[str, Any]:
    return await api.mutate(
        "addKeyResult", {"objectiveId": objective_id, "title": "KR", **given}, OBJECTIVE
    )


async def test_a_milestone_target_of_2_is_refused_on_target(editor: Api) -> None:
    objective = await set_objective(editor)

    result = await add(editor, objective["id"], metric="MILESTONE", start="0", target="2")

    assert result["__typename"] == "ValidationError"
    assert (result["code"], result["field"]) == ("VALIDATION", "target")
    after = (await read(editor, KEY_RESULTS, id=objective["id"]))["objective"]
    assert (after["version"], after["keyResults"]) == (objective["version"], [])


async def test_a_milestone_check_in_of_a_half_is_refused_on_value(editor: Api) -> None:
    objective = await set_objective(editor)
    added = await add(editor, objective["id"], metric="MILESTONE")
    [milestone] = added["objective"]["keyResults"]

    result = await editor.mutate(
        "checkInKeyResult",
        {
            "objectiveId": objective["id"],
            "keyResultId": milestone["id"],
            "value": "0.5",
            "confidence": "ON_TRACK",
        },
        OBJECTIVE,
    )

    assert result["__typename"] == "ValidationError"
    assert (result["code"], result["field"]) == ("VALIDATION", "value")


async def link(api: Api, objective_id: str, key_result_id: str, kpi_id: str) -> dict[str, Any]:
    return await api.mutate(
        "linkKeyResultToKpi",
        {"objectiveId": objective_id, "keyResultId": key_result_id, "kpiId": kpi_id},
        OBJECTIVE,
    )


async def test_a_rising_key_result_cannot_follow_a_lower_is_better_kpi(editor: Api) -> None:
    churn = await define_kpi(editor, name="Churn", direction="LOWER_IS_BETTER")
    objective = await set_objective(editor)
    added = await add(editor, objective["id"], metric="PERCENT", start="2", target="5")
    [rising] = added["objective"]["keyResults"]

    result = await link(editor, objective["id"], rising["id"], churn["id"])

    assert result["__typename"] == "DirectionMismatchError"
    assert (result["code"], result["field"]) == ("DIRECTION_MISMATCH", "kpiId")
    assert "Churn" in result["message"]
    after = (await read(editor, KEY_RESULTS, id=objective["id"]))["objective"]
    assert after["keyResults"] == [{"id": rising["id"], "kpiId": None}]


async def test_a_falling_key_result_cannot_follow_a_higher_is_better_kpi(editor: Api) -> None:
    conversion = await define_kpi(editor, direction="HIGHER_IS_BETTER")
    objective = await set_objective(editor)
    added = await add(editor, objective["id"], metric="NUMBER", start="9", target="3")
    [falling] = added["objective"]["keyResults"]

    result = await link(editor, objective["id"], falling["id"], conversion["id"])

    assert (result["__typename"], result["code"]) == (
        "DirectionMismatchError",
        "DIRECTION_MISMATCH",
    )


async def test_a_falling_key_result_follows_a_lower_is_better_kpi(editor: Api) -> None:
    churn = await define_kpi(editor, name="Churn", direction="LOWER_IS_BETTER")
    objective = await set_objective(editor)
    added = await add(editor, objective["id"], metric="PERCENT", start="5", target="2")
    [falling] = added["objective"]["keyResults"]

    result = await link(editor, objective["id"], falling["id"], churn["id"])

    assert result["__typename"] == "LinkKeyResultToKpiPayload"
    assert result["objective"]["keyResults"][0]["id"] == falling["id"]


async def test_a_linked_key_result_cannot_be_turned_to_want_the_other_direction(
    editor: Api,
) -> None:
    conversion = await define_kpi(editor, direction="HIGHER_IS_BETTER")
    objective = await set_objective(editor)
    added = await add(editor, objective["id"], metric="PERCENT", start="2", target="5")
    [rising] = added["objective"]["keyResults"]
    linked = await link(editor, objective["id"], rising["id"], conversion["id"])
    assert linked["__typename"] == "LinkKeyResultToKpiPayload", linked

    result = await editor.mutate(
        "reviseKeyResult",
        {
            "objectiveId": objective["id"],
            "keyResultId": rising["id"],
            "target": "1",
            "reason": "Aim for fewer",
        },
        OBJECTIVE,
    )

    assert result["__typename"] == "ValidationError"
    assert (result["code"], result["field"]) == ("VALIDATION", "target")
    after = (await read(editor, KEY_RESULTS, id=objective["id"]))["objective"]
    assert after["version"] == linked["version"]
