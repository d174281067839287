"""Ids a client chooses over HTTP: a commandId answers only a retry of its own mutation
(the same input), a readingId names one reading; used again for something else, each is
refused with its code and nothing changes."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

from tests.e2e.kpi_steps import KPI, define_kpi, observed, record_reading
from tests.e2e.okr_steps import OBJECTIVE, set_objective, start_cycle
from tests.e2e.read_steps import read
from tests.e2e.server import Api

READ_OBJECTIVE = "query($id: UUID!) { objective(id: $id) { title owner version } }"
READ_KPI = (
    "query($id: UUID!) { kpi(id: $id) { readingCount version "
    "latestReading { readingId value observedAt } } }"
)
BATCH = KPI + " ... on RecordKpiReadingsPayload { recorded repeated }"
REFUSED = " ... on KpiReadingsRefusedError { refusals { index readingId code message field } }"
READING = KPI + " ... on RecordKpiReadingPayload { readingId recorded }"


async def objective_now(api: Api, objective_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await read(api, READ_OBJECTIVE, id=objective_id))["objective"]
    return found


async def kpi_now(api: Api, kpi_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await read(api, READ_KPI, id=kpi_id))["kpi"]
    return found


def assert_reused_command_id(result: dict[str, Any]) -> None:
    assert result["__typename"] == "IdempotencyKeyReusedError", result
    assert (result["code"], result["field"]) == ("IDEMPOTENCY_KEY_REUSED", "commandId")


async def test_a_creation_retried_with_its_command_id_answers_the_same_objective(
    editor: Api,
) -> None:
    cycle = await start_cycle(editor)
    given = {"cycleId": cycle["id"], "title": "A", "owner": "ana", "commandId": f"c-{uuid4()}"}

    first = await editor.mutate("setObjective", given, OBJECTIVE)
    retried = await editor.mutate("setObjective", given, OBJECTIVE)

    assert retried["__typename"] == "SetObjectivePayload"
    assert retried["objective"]["id"] == first["objective"]["id"]
    assert (retried["version"], retried["position"]) == (first["version"], first["position"])


async def test_a_command_id_used_to_set_an_objective_is_refused_for_revising_another(
    editor: Api,
) -> None:
    cycle = await start_cycle(editor)
    other = await set_objective(editor, cycle["id"], title="B")
    command_id = f"c-{uuid4()}"
    await editor.mutate(
        "setObjective",
        {"cycleId": cycle["id"], "title": "A", "owner": "ana", "commandId": command_id},
        OBJECTIVE,
    )

    result = await editor.mutate(
        "reviseObjective",
        {"objectiveId": other["id"], "title": "B, revised", "commandId": command_id},
        OBJECTIVE,
    )

    assert_reused_command_id(result)
    assert await objective_now(editor, other["id"]) == {"title": "B", "owner": "ana", "version": 1}


async def test_a_command_id_used_for_one_objective_is_refused_for_another(editor: Api) -> None:
    cycle = await start_cycle(editor)
    first = await set_objective(editor, cycle["id"], title="A")
    second = await set_objective(editor, cycle["id"], title="B")
    command_id = f"c-{uuid4()}"
    await editor.mutate(
        "assignObjectiveOwner",
        {"objectiveId": first["id"], "owner": "bo", "commandId": command_id},
        OBJECTIVE,
    )

    result = await editor.mutate(
        "assignObjectiveOwner",
        {"objectiveId": second["id"], "owner": "bo", "commandId": command_id},
        OBJECTIVE,
    )

    assert_reused_command_id(result)
    assert await objective_now(editor, second["id"]) == {"title": "B", "owner": "ana", "version": 1}


async def test_a_command_id_sent_again_with_other_input_is_refused(editor: Api) -> None:
    objective = await set_objective(editor, title="A")
    command_id = f"c-{uuid4()}"
    given = {"objectiveId": objective["id"], "title": "First", "commandId": command_id}
    await editor.mutate("reviseObjective", given, OBJECTIVE)

    changed = await editor.mutate("reviseObjective", {**given, "title": "Second"}, OBJECTIVE)
    with_reason = await editor.mutate("reviseObjective", {**given, "reason": "why"}, OBJECTIVE)

    assert_reused_command_id(changed)
    assert_reused_command_id(with_reason)
    assert (await objective_now(editor, objective["id"]))["title"] == "First"


async def test_one_command_id_sent_at_once_with_different_inputs_applies_exactly_one(
    editor: Api,
) -> None:
    objective = await set_objective(editor, title="A")
    command_id = f"c-{uuid4()}"
    titles = [f"Title {n}" for n in range(6)]

    results = await asyncio.gather(
        *(
            editor.mutate(
                "reviseObjective",
                {"objectiveId": objective["id"], "title": title, "commandId": command_id},
                OBJECTIVE,
            )
            for title in titles
        )
    )

    applied = [t for t, r in zip(titles, results, strict=True) if "version" in r]
    assert len(applied) == 1
    for result in results:
        if "version" not in result:
            assert_reused_command_id(result)
    assert await objective_now(editor, objective["id"]) == {
        "title": applied[0],
        "owner": "ana",
        "version": 2,
    }


async def test_a_reading_sent_again_with_its_id_records_nothing(editor: Api) -> None:
    kpi = await define_kpi(editor)
    reading = {"readingId": str(uuid4()), "observedAt": observed(), "source": "crm"}
    await record_reading(editor, kpi["id"], "2.5", **reading, runId="run-1")

    again = await record_reading(editor, kpi["id"], "2.50", **reading, runId="run-2")

    assert (again["recorded"], again["readingId"]) == (False, reading["readingId"])
    assert (await kpi_now(editor, kpi["id"]))["readingCount"] == 1


async def test_another_reading_with_a_used_reading_id_is_refused_and_the_first_stays(
    editor: Api,
) -> None:
    kpi = await define_kpi(editor)
    reading = {"readingId": str(uuid4()), "observedAt": observed()}
    await record_reading(editor, kpi["id"], "2.5", **reading)
    before = await kpi_now(editor, kpi["id"])

    result = await editor.mutate(
        "recordKpiReading", {"kpiId": kpi["id"], "value": "9.9", **reading}, READING
    )

    assert result["__typename"] == "AlreadyExistsError", result
    assert (result["code"], result["field"]) == ("READING_ID_REUSED", "readingId")
    assert await kpi_now(editor, kpi["id"]) == before
    assert before["latestReading"]["value"] == "2.5"


async def test_a_batch_with_a_used_reading_id_for_another_reading_records_none_and_names_it(
    editor: Api,
) -> None:
    kpi = await define_kpi(editor)
    held = {"value": "1", "observedAt": observed(3), "readingId": str(uuid4())}
    await editor.mutate("recordKpiReadings", {"kpiId": kpi["id"], "readings": [held]}, BATCH)
    before = await kpi_now(editor, kpi["id"])
    readings = [
        {"value": "2", "observedAt": observed(2), "readingId": str(uuid4())},
        {**held, "observedAt": observed(1)},
    ]

    result = await editor.mutate(
        "recordKpiReadings", {"kpiId": kpi["id"], "readings": readings}, BATCH + REFUSED
    )

    assert result["__typename"] == "KpiReadingsRefusedError", result
    [refusal] = result["refusals"]
    assert (refusal["index"], refusal["readingId"], refusal["code"]) == (
        1,
        held["readingId"],
        "READING_ID_REUSED",
    )
    assert await kpi_now(editor, kpi["id"]) == before
