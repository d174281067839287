"""Moving a goalpost over the API: refused without a reason (and nothing changes),
recorded with one and shown to auditors with who, when, from, to and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from okrledger.services.identity import Role
from tests.e2e.kpi_steps import KPI, define_kpi, record_reading
from tests.e2e.okr_steps import OBJECTIVE, add_key_result, set_objective, start_cycle
from tests.e2e.read_steps import CHANGE, nodes, read, revise_target
from tests.e2e.server import Api, ApiClient, as_caller

GOALPOSTS = f"""query($cycle: UUID!) {{
  goalpostChanges(cycle: $cycle) {{ edges {{ node {{ streamId {CHANGE} }} }} }} }}"""
HISTORY = f"""query($id: UUID!) {{
  goalHistory(streamId: $id, first: 10, order: NEWEST_FIRST) {{
    edges {{ node {{ eventType {CHANGE} }} }} }} }}"""
KEY_RESULTS = """query($id: UUID!) { objective(id: $id) { version keyResults { start target } } }"""
KPI_NOW = """query($id: UUID!) { kpi(id: $id) { version target bands { green yellow } } }"""


@pytest.fixture
def auditor(client: ApiClient, tenant: str) -> Api:
    return as_caller(client, tenant, Role.AUDITOR)


async def test_moving_a_target_without_a_reason_is_refused_and_changes_nothing(
    editor: Api, auditor: Api
) -> None:
    # Given a key result (31 -> 45) whose cycle began on 2026-10-01
    cycle = await start_cycle(editor)
    objective = await set_objective(editor, cycle["id"])
    key_result = await add_key_result(editor, objective["id"])
    before = await read(editor, KEY_RESULTS, id=objective["id"])

    result = await editor.mutate(
        "reviseKeyResult",
        {"objectiveId": objective["id"], "keyResultId": key_result["id"], "target": "38"},
        OBJECTIVE,
    )

    assert result["__typename"] == "ValidationError"
    assert (result["code"], result["field"]) == ("REASON_REQUIRED", "reason")
    assert "Raise NPS" in result["message"]
    assert await read(editor, KEY_RESULTS, id=objective["id"]) == before
    assert nodes((await read(auditor, GOALPOSTS, cycle=cycle["id"]))["goalpostChanges"]) == []


async def test_a_blank_reason_counts_as_none(editor: Api) -> None:
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])

    result = await editor.mutate(
        "reviseKeyResult",
        {
            "objectiveId": objective["id"],
            "keyResultId": key_result["id"],
            "start": "20",
            "reason": "  ",
        },
        OBJECTIVE,
    )

    assert result["code"] == "REASON_REQUIRED"


async def test_a_target_moved_with_a_reason_is_listed_with_who_when_from_to_and_why(
    editor: Api, auditor: Api
) -> None:
    cycle = await start_cycle(editor)
    objective = await set_objective(editor, cycle["id"])
    key_result = await add_key_result(editor, objective["id"])

    moved = await revise_target(editor, objective["id"], key_result["id"], "38", "market fell")

    [change] = nodes((await read(auditor, GOALPOSTS, cycle=cycle["id"]))["goalpostChanges"])
    assert (change["streamId"], change["position"]) == (objective["id"], moved["position"])
    assert (change["actor"], change["reason"]) == ("user-editor", "market fell")
    assert datetime.fromisoformat(change["recordedAt"]) <= datetime.now(UTC)
    assert change["changes"] == [
        {"field": "target", "from": "45", "to": "38", "goalpostMoved": True}
    ]


async def test_changing_a_kpi_target_after_readings_without_a_reason_is_refused(
    editor: Api,
) -> None:
    kpi = await define_kpi(editor, target="5")
    await record_reading(editor, kpi["id"], "4")
    before = await read(editor, KPI_NOW, id=kpi["id"])

    result = await editor.mutate("setKpiTarget", {"kpiId": kpi["id"], "target": "3"}, KPI)

    assert (result["__typename"], result["code"]) == ("ValidationError", "REASON_REQUIRED")
    assert result["field"] == "reason"
    assert await read(editor, KPI_NOW, id=kpi["id"]) == before


async def test_kpi_bands_changed_after_readings_are_a_moved_goalpost_in_its_history(
    editor: Api, auditor: Api
) -> None:
    kpi = await define_kpi(editor, bands={"green": "4", "yellow": "3"})
    await record_reading(editor, kpi["id"], "4")

    result = await editor.mutate(
        "setKpiBands",
        {"kpiId": kpi["id"], "bands": {"green": "5", "yellow": "4"}, "reason": "benchmark"},
        KPI,
    )

    assert result["__typename"] == "SetKpiBandsPayload", result
    history = nodes((await read(auditor, HISTORY, id=kpi["id"]))["goalHistory"])
    [bands_set] = [e for e in history if e["eventType"] == "KPIBandsSet"]
    assert bands_set["reason"] == "benchmark"
    assert {c["field"]: c["goalpostMoved"] for c in bands_set["changes"]} == {
        "bands.green": True,
        "bands.yellow": True,
    }


async def test_tuning_a_kpi_before_its_first_reading_is_no_goalpost_move(
    editor: Api, auditor: Api
) -> None:
    kpi = await define_kpi(editor)

    result = await editor.mutate("setKpiTarget", {"kpiId": kpi["id"], "target": "7"}, KPI)

    assert result["__typename"] == "SetKpiTargetPayload", result
    entry = nodes((await read(auditor, HISTORY, id=kpi["id"]))["goalHistory"])[0]
    assert entry["eventType"] == "KPITargetSet"
    assert entry["changes"] == [
        {"field": "target", "from": None, "to": "7", "goalpostMoved": False}
    ]
