"""The audit log holds every public event, KPI readings included, and every type filter
takes the same names and families and refuses an unknown one the same way."""

from __future__ import annotations

from typing import Any

import pytest

from okrledger.services.identity import Role
from tests.e2e.kpi_steps import correct_reading, define_kpi, observed
from tests.e2e.okr_steps import OBJECTIVE, set_objective
from tests.e2e.read_steps import check_in, nodes, read, refused
from tests.e2e.server import Api, ApiClient, as_caller
from tests.e2e.ws_steps import acknowledged, events, receive, socket, subscribe

AUDIT_LOG = """query($filter: AuditLogFilter) { auditLog(filter: $filter, first: 100) {
  edges { node { position eventType publicType actor commandId reason summary observedAt
                 source runId changes { field from to } } } } }"""


@pytest.fixture
def auditor(client: ApiClient, tenant: str) -> Api:
    return as_caller(client, tenant, Role.AUDITOR)


async def audit_log(auditor: Api, **filter: Any) -> list[dict[str, Any]]:
    return nodes((await read(auditor, AUDIT_LOG, filter=filter or None))["auditLog"])


async def test_a_reading_is_in_the_audit_log_with_actor_command_reason_and_value(
    editor: Api, auditor: Api
) -> None:
    kpi = await define_kpi(editor, name="Signups")

    recorded = await editor.mutate(
        "recordKpiReading",
        {"kpiId": kpi["id"], "value": "7E+4", "observedAt": observed(), "source": "crm",
         "runId": "sync-7", "commandId": "reading-1", "reason": "nightly sync"},
        "... on RecordKpiReadingPayload { readingId position }",
    )  # fmt: skip

    [entry] = await audit_log(auditor, eventTypes=["kpi.reading.recorded.v1"])
    assert entry["position"] == recorded["position"]
    assert (entry["eventType"], entry["actor"]) == ("KPIReadingRecorded", "user-editor")
    assert entry["publicType"] == "kpi.reading.recorded.v1"
    assert (entry["commandId"], entry["reason"]) == ("reading-1", "nightly sync")
    assert (entry["source"], entry["runId"]) == ("crm", "sync-7")
    assert entry["observedAt"] is not None
    assert entry["changes"] == [{"field": "value", "from": None, "to": "70000"}]
    assert "Signups" in entry["summary"] and "70000" in entry["summary"]


async def test_a_batch_of_readings_is_one_entry_of_the_audit_log(editor: Api, auditor: Api) -> None:
    kpi = await define_kpi(editor)
    readings = [
        {"value": "1.20E+6", "observedAt": observed(120), "source": "erp"},
        {"value": "3", "observedAt": observed(60), "source": "erp"},
    ]

    await editor.mutate(
        "recordKpiReadings",
        {"kpiId": kpi["id"], "readings": readings, "reason": "backfill"},
        "... on RecordKpiReadingsPayload { recorded }",
    )

    [entry] = await audit_log(auditor, eventTypes=["kpi.readings.recorded.v1"])
    assert (entry["eventType"], entry["reason"], entry["source"]) == (
        "KPIReadingsRecorded",
        "backfill",
        "erp",
    )
    assert entry["changes"] == [
        {"field": "readings", "from": None, "to": "2"},
        {"field": "latestValue", "from": None, "to": "3"},
    ]
    assert "2 readings recorded" in entry["summary"]


async def test_a_correction_is_in_the_audit_log_from_the_old_value_to_the_new(
    editor: Api, auditor: Api
) -> None:
    kpi = await define_kpi(editor)
    recorded = await editor.mutate(
        "recordKpiReading",
        {"kpiId": kpi["id"], "value": "10", "observedAt": observed()},
        "... on RecordKpiReadingPayload { readingId }",
    )
    await correct_reading(editor, kpi["id"], recorded["readingId"], "12.50", reason="typo")

    entries = await audit_log(auditor, eventTypes=["kpi.reading.*"])

    assert [e["eventType"] for e in entries] == ["KPIReadingCorrected", "KPIReadingRecorded"]
    assert entries[0]["changes"] == [{"field": "value", "from": "10", "to": "12.5"}]


async def test_the_audit_log_filters_by_family(editor: Api, auditor: Api) -> None:
    objective = await set_objective(editor)
    await define_kpi(editor)

    objectives = await audit_log(auditor, eventTypes=["okr.objective.*"])
    kpis = await audit_log(auditor, eventTypes=["kpi.*"])
    everything = await audit_log(auditor, eventTypes=["*"])

    assert {e["eventType"] for e in objectives} == {"ObjectiveSet"}
    assert {e["eventType"] for e in kpis} == {"KPIDefined"}
    assert len(everything) == len(await audit_log(auditor)) >= 3
    assert objective["id"]


@pytest.mark.parametrize("name", ["KpiTargetSet", "KPITargetSet", "kpi.target.set.v9", "okr.x.*"])
async def test_the_audit_log_refuses_an_unknown_event_type_listing_the_valid_ones(
    auditor: Api, name: str
) -> None:
    error = await refused(auditor, AUDIT_LOG, filter={"eventTypes": [name]})

    assert error["extensions"] == {"code": "VALIDATION", "field": "eventTypes"}
    assert repr(name) in error["message"]
    assert "kpi.target.set.v1" in error["message"] and "okr.objective.*" in error["message"]


async def test_goal_events_take_a_family(
    api_url: str, client: ApiClient, editor: Api, tenant: str
) -> None:
    await set_objective(editor)
    await define_kpi(editor)

    async with socket(api_url, client.bearer(tenant, "subscriber", Role.VIEWER)) as connection:
        await acknowledged(connection)
        await subscribe(connection, types=["kpi.*"])
        [first] = await events(connection, 1)

    assert first["type"] == "kpi.defined.v1"


async def test_goal_events_refuse_an_unknown_type_with_validation(
    api_url: str, client: ApiClient, tenant: str
) -> None:
    async with socket(api_url, client.bearer(tenant, "subscriber", Role.VIEWER)) as connection:
        await acknowledged(connection)
        await subscribe(connection, types=["KPITargetSet"])
        answer = await receive(connection)

    errors = answer["payload"]["errors"] if answer["type"] == "next" else answer["payload"]
    assert errors[0]["extensions"] == {"code": "VALIDATION", "field": "types"}
    assert "'KPITargetSet'" in errors[0]["message"] and "kpi.*" in errors[0]["message"]


async def test_targets_check_ins_and_progress_read_back_in_plain_notation(
    editor: Api, auditor: Api
) -> None:
    objective = await set_objective(editor)
    added = await editor.mutate(
        "addKeyResult",
        {"objectiveId": objective["id"], "title": "Reach a million users", "metric": "NUMBER",
         "start": "0E-28", "target": "1.20E+6"},
        OBJECTIVE,
    )  # fmt: skip
    key_result = added["objective"]["keyResults"][-1]

    checked = await check_in(editor, objective["id"], key_result["id"], "7E+4")

    [read_back] = checked["objective"]["keyResults"]
    assert (read_back["start"], read_back["target"], read_back["current"]) == (
        "0",
        "1200000",
        "70000",
    )
    found = await read(
        editor,
        "query($id: UUID!) { objective(id: $id) { progress keyResults { progress } } }",
        id=objective["id"],
    )
    # 70000 / 1200000 = 0.0583333…: fractions are shown to 4 places.
    assert found["objective"]["progress"] == "0.0583"
    assert found["objective"]["keyResults"][0]["progress"] == "0.0583"
    [check_in_entry, *_] = await audit_log(auditor, eventTypes=["okr.key_result.checked_in.v1"])
    assert "70000" in check_in_entry["summary"]
    assert {"field": "current", "from": "0", "to": "70000"} in check_in_entry["changes"]
