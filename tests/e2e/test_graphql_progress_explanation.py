"""objective.progressExplanation over HTTP: contributions add up to the progress served,
a linked key result names the KPI reading that set it, roll-up is explained, and asOf holds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from okrledger.domain.values import fraction
from tests.e2e.kpi_steps import define_kpi, record_reading
from tests.e2e.okr_steps import OBJECTIVE, activate, set_objective, start_cycle
from tests.e2e.read_steps import check_in, read
from tests.e2e.server import Api

EXPLAINED = """query($id: UUID!, $asOf: AsOfInput) {
  objective(id: $id, asOf: $asOf) {
    progress childrenProgress rolledUpProgress
    progressExplanation {
      formula progress totalWeight childrenProgress rolledUpProgress
      keyResults {
        keyResultId title weight normalisedWeight progress contribution current valueSource
        kpiReading { kpiId kpiName readingId value observedAt recordedAt position }
      }
      children { objectiveId title rolledUpProgress share contribution }
      excludedChildren { objectiveId title status reason }
      rollUp { kind progress share contribution }
    } } }"""


async def key_result(
    api: Api, objective_id: str, title: str, start: str, target: str, weight: str
) -> dict[str, Any]:
    result = await api.mutate(
        "addKeyResult",
        {
            "objectiveId": objective_id,
            "title": title,
            "metric": "NUMBER",
            "start": start,
            "target": target,
            "weight": weight,
        },
        OBJECTIVE,
    )
    assert result["__typename"] == "AddKeyResultPayload", result
    added: dict[str, Any] = result["objective"]["keyResults"][-1]
    return added


async def explained(api: Api, objective_id: str, **as_of: Any) -> dict[str, Any]:
    data = await read(api, EXPLAINED, id=objective_id, asOf=as_of or None)
    objective: dict[str, Any] = data["objective"]
    return objective


def total(entries: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(e["contribution"]) for e in entries), Decimal(0))


async def test_key_result_contributions_add_up_to_the_objectives_progress(editor: Api) -> None:
    # Given weights 1, 2 and 3 and progress of 1/3, 1/7 and 1 (no finite decimals)
    objective = await set_objective(editor)
    first = await key_result(editor, objective["id"], "Calls", "0", "3", "1")
    second = await key_result(editor, objective["id"], "Demos", "0", "7", "2")
    third = await key_result(editor, objective["id"], "Deals", "10", "4", "3")
    await check_in(editor, objective["id"], first["id"], "1")
    await check_in(editor, objective["id"], second["id"], "1")
    await check_in(editor, objective["id"], third["id"], "4")

    found = await explained(editor, objective["id"])

    explanation = found["progressExplanation"]
    assert explanation["progress"] == found["progress"]
    assert total(explanation["keyResults"]) == Decimal(found["progress"])
    assert [k["keyResultId"] for k in explanation["keyResults"]] == [
        first["id"],
        second["id"],
        third["id"],
    ]
    assert Decimal(explanation["totalWeight"]) == 6
    for entry in explanation["keyResults"]:
        share = Decimal(entry["weight"]) / 6
        # Fractions are shown to 4 places, rounded half-even (docs/api.md, "Numbers").
        assert Decimal(entry["normalisedWeight"]) == fraction(share)
        # Each is its weight share times its progress, to within the shown precision.
        expected = share * Decimal(entry["progress"])
        assert abs(Decimal(entry["contribution"]) - expected) <= Decimal("0.0001")
        assert entry["valueSource"] == "CHECK_IN"
    assert explanation["formula"].startswith("progress = (1 * 0.3333")


async def test_a_linked_key_result_names_the_kpi_reading_that_set_its_value(
    editor: Api,
) -> None:
    kpi = await define_kpi(editor, name="NPS survey")
    objective = await set_objective(editor)
    manual = await key_result(editor, objective["id"], "Calls", "0", "3", "1")
    linked = await key_result(editor, objective["id"], "Raise NPS", "31", "45", "2")
    await check_in(editor, objective["id"], manual["id"], "2")
    link = {"objectiveId": objective["id"], "keyResultId": linked["id"], "kpiId": kpi["id"]}
    assert (await editor.mutate("linkKeyResultToKpi", link, OBJECTIVE))["__typename"] == (
        "LinkKeyResultToKpiPayload"
    )

    recorded = await record_reading(editor, kpi["id"], "38")

    found = await explained(editor, objective["id"])
    explanation = found["progressExplanation"]
    assert total(explanation["keyResults"]) == Decimal(found["progress"])
    calls, nps = explanation["keyResults"]
    assert (calls["valueSource"], calls["kpiReading"]) == ("CHECK_IN", None)
    assert (nps["valueSource"], nps["current"]) == ("KPI_READING", "38")
    reading = nps["kpiReading"]
    assert (reading["kpiId"], reading["kpiName"]) == (kpi["id"], "NPS survey")
    assert (reading["readingId"], reading["value"]) == (recorded["readingId"], "38")
    assert reading["position"] == recorded["position"]
    assert reading["observedAt"] == recorded["kpi"]["latestReading"]["observedAt"]


async def test_roll_up_from_aligned_children_adds_up_to_rolled_up_progress(editor: Api) -> None:
    cycle = await start_cycle(editor)
    parent = await set_objective(editor, cycle["id"])
    own = await key_result(editor, parent["id"], "Revenue", "0", "9", "1")
    await check_in(editor, parent["id"], own["id"], "1")
    children = []
    for value in ("1", "2", "5"):
        child = await set_objective(editor, cycle["id"], parentId=parent["id"])
        kr = await key_result(editor, child["id"], "Leads", "0", "7", "1")
        await check_in(editor, child["id"], kr["id"], value)
        await activate(editor, child["id"])
        children.append(child)

    found = await explained(editor, parent["id"])

    explanation = found["progressExplanation"]
    assert [c["objectiveId"] for c in explanation["children"]] == [c["id"] for c in children]
    assert explanation["childrenProgress"] == found["childrenProgress"]
    assert total(explanation["children"]) == Decimal(found["childrenProgress"])
    assert [(p["kind"], p["share"]) for p in explanation["rollUp"]] == [
        ("OWN", "0.5"),
        ("CHILDREN", "0.5"),
    ]
    assert explanation["rollUp"][0]["progress"] == found["progress"]
    assert explanation["rollUp"][1]["progress"] == found["childrenProgress"]
    assert total(explanation["rollUp"]) == Decimal(found["rolledUpProgress"])
    assert explanation["rolledUpProgress"] == found["rolledUpProgress"]


async def test_a_draft_child_is_left_out_of_the_roll_up_and_named_as_excluded(
    editor: Api,
) -> None:
    # Given a parent without key results, an active child at 7/10 and a draft child at 0
    cycle = await start_cycle(editor)
    parent = await set_objective(editor, cycle["id"], title="Company")
    active = await set_objective(editor, cycle["id"], title="Sales", parentId=parent["id"])
    kr = await key_result(editor, active["id"], "Deals", "0", "10", "1")
    await check_in(editor, active["id"], kr["id"], "7")
    await activate(editor, active["id"])
    draft = await set_objective(editor, cycle["id"], title="Hiring", parentId=parent["id"])

    found = await explained(editor, parent["id"])

    # Then the parent's progress is the active child's alone
    assert Decimal(found["rolledUpProgress"]) == Decimal("0.7")
    explanation = found["progressExplanation"]
    assert [c["objectiveId"] for c in explanation["children"]] == [active["id"]]
    [excluded] = explanation["excludedChildren"]
    assert (excluded["objectiveId"], excluded["title"], excluded["status"]) == (
        draft["id"],
        "Hiring",
        "DRAFT",
    )
    assert "draft" in excluded["reason"]
    assert "not counted: 'Hiring' (draft)" in explanation["formula"]


async def test_an_explanation_as_of_a_past_position_explains_the_progress_then(
    editor: Api,
) -> None:
    objective = await set_objective(editor)
    first = await key_result(editor, objective["id"], "Calls", "0", "3", "1")
    second = await key_result(editor, objective["id"], "Demos", "0", "7", "2")
    then = await check_in(editor, objective["id"], first["id"], "1")
    await check_in(editor, objective["id"], second["id"], "6")

    past = await explained(editor, objective["id"], position=then["position"])
    now = await explained(editor, objective["id"])

    assert past["progress"] != now["progress"]
    explanation = past["progressExplanation"]
    assert explanation["progress"] == past["progress"]
    assert total(explanation["keyResults"]) == Decimal(past["progress"])
    assert [k["current"] for k in explanation["keyResults"]] == ["1", "0"]
