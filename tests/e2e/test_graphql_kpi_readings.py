"""KPI readings over HTTP: one, a batch (all or nothing), corrections, linked key results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from tests.e2e.kpi_steps import KPI, define_kpi, observed, record_reading
from tests.e2e.okr_steps import add_key_result, set_objective
from tests.e2e.server import Api

BATCH = KPI + " ... on RecordKpiReadingsPayload { recorded repeated }"
REFUSED = " ... on KpiReadingsRefusedError { refusals { index readingId code message field } }"
LINKED = "... on ObjectivePayload { version objective { keyResults { id current kpiId } } }"


async def test_a_reading_becomes_the_kpis_latest(editor: Api) -> None:
    kpi = await define_kpi(editor, bands={"green": "5", "yellow": "3"})
    reading_id = str(uuid4())

    result = await record_reading(editor, kpi["id"], "4.2", readingId=reading_id, source="crm")

    assert result["recorded"] is True
    assert result["readingId"] == reading_id
    assert result["kpi"]["latestReading"]["value"] == "4.2"
    assert result["kpi"]["readingCount"] == 1
    assert result["kpi"]["health"] == "YELLOW"


async def test_a_reading_sent_twice_is_recorded_once(editor: Api) -> None:
    kpi = await define_kpi(editor)
    reading = {"readingId": str(uuid4()), "observedAt": observed()}

    first = await record_reading(editor, kpi["id"], "1", **reading)
    again = await record_reading(editor, kpi["id"], "1", **reading)

    assert (first["recorded"], again["recorded"]) == (True, False)
    assert again["kpi"]["readingCount"] == 1


async def test_a_reading_in_the_future_is_a_validation_error_on_observed_at(editor: Api) -> None:
    kpi = await define_kpi(editor)
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()

    result = await editor.mutate(
        "recordKpiReading", {"kpiId": kpi["id"], "value": "1", "observedAt": later}, KPI
    )

    assert result["__typename"] == "ValidationError"
    assert result["field"] == "observedAt"


async def test_a_retired_kpi_takes_no_reading(editor: Api) -> None:
    kpi = await define_kpi(editor)
    await editor.mutate("retireKpi", {"kpiId": kpi["id"]}, KPI)

    result = await editor.mutate(
        "recordKpiReading", {"kpiId": kpi["id"], "value": "1", "observedAt": observed()}, KPI
    )

    assert result["__typename"] == "InvalidStateError"


async def test_a_batch_of_five_thousand_readings_is_recorded_whole(editor: Api) -> None:
    kpi = await define_kpi(editor)
    start = datetime.now(UTC) - timedelta(days=30)
    readings = [
        {"value": str(i), "observedAt": (start + timedelta(minutes=i)).isoformat()}
        for i in range(5000)
    ]

    result = await editor.mutate(
        "recordKpiReadings", {"kpiId": kpi["id"], "readings": readings}, BATCH
    )

    assert result["__typename"] == "RecordKpiReadingsPayload", result
    assert len(result["recorded"]) == 5000 and result["repeated"] == []
    assert result["kpi"]["readingCount"] == 5000
    assert result["kpi"]["latestReading"]["value"] == "4999"


async def test_a_batch_over_five_thousand_is_refused(editor: Api) -> None:
    kpi = await define_kpi(editor)
    readings = [{"value": "1", "observedAt": observed()}] * 5001

    result = await editor.mutate(
        "recordKpiReadings", {"kpiId": kpi["id"], "readings": readings}, BATCH
    )

    assert result["__typename"] == "ValidationError"
    assert result["field"] == "readings"


async def test_a_batch_with_bad_readings_records_none_and_names_each(editor: Api) -> None:
    kpi = await define_kpi(editor)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    bad_id = str(uuid4())
    readings = [
        {"value": "1", "observedAt": observed(3)},
        {"value": "2", "observedAt": future, "readingId": bad_id},
        {"value": "3", "observedAt": observed(2)},
        {"value": "4", "observedAt": future},
    ]

    result = await editor.mutate(
        "recordKpiReadings", {"kpiId": kpi["id"], "readings": readings}, BATCH + REFUSED
    )
    after = await editor.mutate("setKpiTarget", {"kpiId": kpi["id"], "target": "1"}, KPI)

    assert result["__typename"] == "KpiReadingsRefusedError"
    assert [r["index"] for r in result["refusals"]] == [1, 3]
    assert result["refusals"][0]["readingId"] == bad_id
    assert result["refusals"][0]["field"] == "observedAt"
    assert after["kpi"]["readingCount"] == 0


async def test_a_batch_retried_records_only_the_new_readings(editor: Api) -> None:
    kpi = await define_kpi(editor)
    held = {"value": "1", "observedAt": observed(3), "readingId": str(uuid4())}
    new = {"value": "2", "observedAt": observed(2), "readingId": str(uuid4())}
    await editor.mutate("recordKpiReadings", {"kpiId": kpi["id"], "readings": [held]}, BATCH)

    result = await editor.mutate(
        "recordKpiReadings", {"kpiId": kpi["id"], "readings": [held, new]}, BATCH
    )

    assert result["recorded"] == [new["readingId"]]
    assert result["repeated"] == [held["readingId"]]


async def test_correcting_a_reading_changes_the_latest_value(editor: Api) -> None:
    kpi = await define_kpi(editor)
    reading = await record_reading(editor, kpi["id"], "10")

    result = await editor.mutate(
        "correctKpiReading",
        {
            "kpiId": kpi["id"],
            "readingId": reading["readingId"],
            "value": "11",
            "reason": "late orders",
        },
        KPI,
    )

    assert result["__typename"] == "CorrectKpiReadingPayload"
    assert result["kpi"]["latestReading"]["value"] == "11"


async def test_a_correction_needs_a_reason(editor: Api) -> None:
    kpi = await define_kpi(editor)
    reading = await record_reading(editor, kpi["id"], "10")

    missing = await editor.post(
        "mutation($input: CorrectKpiReadingInput!) { correctKpiReading(input: $input) "
        "{ __typename } }",
        {"input": {"kpiId": kpi["id"], "readingId": reading["readingId"], "value": "1"}},
    )
    blank = await editor.mutate(
        "correctKpiReading",
        {"kpiId": kpi["id"], "readingId": reading["readingId"], "value": "1", "reason": " "},
        KPI,
    )

    assert "reason" in missing["errors"][0]["message"]
    assert blank["__typename"] == "ValidationError"
    assert blank["field"] == "reason"


async def test_correcting_an_unknown_reading_is_not_found(editor: Api) -> None:
    kpi = await define_kpi(editor)

    result = await editor.mutate(
        "correctKpiReading",
        {"kpiId": kpi["id"], "readingId": str(uuid4()), "value": "1", "reason": "typo"},
        KPI,
    )

    assert result["__typename"] == "NotFoundError"
    assert result["field"] == "readingId"


async def test_a_linked_key_result_follows_the_kpis_readings(editor: Api) -> None:
    kpi = await define_kpi(editor)
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])
    link = {"objectiveId": objective["id"], "keyResultId": key_result["id"], "kpiId": kpi["id"]}

    linked = await editor.mutate("linkKeyResultToKpi", link, LINKED)
    await record_reading(editor, kpi["id"], "38")
    unlinked = await editor.mutate(
        "unlinkKeyResultFromKpi",
        {"objectiveId": objective["id"], "keyResultId": key_result["id"]},
        LINKED,
    )

    assert linked["__typename"] == "LinkKeyResultToKpiPayload"
    assert linked["objective"]["keyResults"][0]["kpiId"] == kpi["id"]
    assert unlinked["__typename"] == "UnlinkKeyResultFromKpiPayload"
    assert unlinked["objective"]["keyResults"][0] == {
        "id": key_result["id"],
        "current": "38",
        "kpiId": None,
    }


async def test_linking_to_an_unknown_kpi_is_not_found_on_kpi_id(editor: Api) -> None:
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])

    result = await editor.mutate(
        "linkKeyResultToKpi",
        {"objectiveId": objective["id"], "keyResultId": key_result["id"], "kpiId": str(uuid4())},
        LINKED,
    )

    assert result["__typename"] == "NotFoundError"
    assert result["field"] == "kpiId"


async def test_linking_to_a_retired_kpi_is_invalid_state(editor: Api) -> None:
    kpi = await define_kpi(editor)
    await editor.mutate("retireKpi", {"kpiId": kpi["id"]}, KPI)
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])

    result = await editor.mutate(
        "linkKeyResultToKpi",
        {"objectiveId": objective["id"], "keyResultId": key_result["id"], "kpiId": kpi["id"]},
        LINKED,
    )

    assert result["__typename"] == "InvalidStateError"
