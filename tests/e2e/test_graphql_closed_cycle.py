"""A closed cycle over HTTP: closing settles its open objectives, every change to them is
refused with CYCLE_CLOSED, grading still works, a linked KPI's readings are recorded but no
longer move its key results, and only an admin with a reason reopens it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import pytest

from okrledger.services.identity import Role
from tests.e2e.kpi_steps import define_kpi, observed, record_reading
from tests.e2e.okr_steps import (
    CYCLE,
    OBJECTIVE,
    activate,
    add_key_result,
    set_objective,
    start_cycle,
)
from tests.e2e.read_steps import CHANGE, check_in, nodes, read
from tests.e2e.server import Api, ApiClient, as_caller

READ_OBJECTIVE = """query($id: UUID!) { objective(id: $id) {
    status version score retrospective keyResults { id current kpiId } } }"""
HISTORY = f"""query($id: UUID!) {{ goalHistory(streamId: $id, first: 50, order: OLDEST_FIRST) {{
    edges {{ node {{ {CHANGE} }} }} }} }}"""


@pytest.fixture
def auditor(client: ApiClient, tenant: str) -> Api:
    return as_caller(client, tenant, Role.AUDITOR)


async def close(api: Api, cycle_id: str, **extra: Any) -> dict[str, Any]:
    result = await api.mutate("closeCycle", {"cycleId": cycle_id, **extra}, CYCLE)
    assert result["__typename"] == "CloseCyclePayload", result
    return result


async def reopen(api: Api, cycle_id: str, reason: str) -> dict[str, Any]:
    return await api.mutate("reopenCycle", {"cycleId": cycle_id, "reason": reason}, CYCLE)


async def objective(api: Api, objective_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await read(api, READ_OBJECTIVE, id=objective_id))["objective"]
    return found


async def history(api: Api, stream_id: str) -> list[dict[str, Any]]:
    return nodes((await read(api, HISTORY, id=stream_id))["goalHistory"])


class Quarter:
    """A cycle with an active objective (one key result) and a draft, then closed."""

    def __init__(self, cycle: str, active: str, key_result: str, draft: str) -> None:
        self.cycle, self.active, self.key_result, self.draft = cycle, active, key_result, draft

    @classmethod
    async def closed(cls, api: Api) -> Quarter:
        cycle = (await start_cycle(api))["id"]
        active = (await set_objective(api, cycle))["id"]
        key_result = (await add_key_result(api, active))["id"]
        await activate(api, active)
        draft = (await set_objective(api, cycle, title="Later"))["id"]
        await close(api, cycle)
        return cls(cycle, active, key_result, draft)


async def test_closing_a_cycle_settles_its_draft_and_active_objectives(editor: Api) -> None:
    cycle = (await start_cycle(editor))["id"]
    active = (await set_objective(editor, cycle))["id"]
    await activate(editor, active)
    draft = (await set_objective(editor, cycle, title="Later"))["id"]
    done = (await set_objective(editor, cycle, title="Done early"))["id"]
    await activate(editor, done)
    await editor.mutate("closeObjective", {"objectiveId": done}, OBJECTIVE)

    closed = await close(editor, cycle)

    assert closed["cycle"]["closed"] is True
    statuses = [(await objective(editor, o))["status"] for o in (active, draft, done)]
    assert statuses == ["CLOSED", "CLOSED", "CLOSED"]
    listed = await read(
        editor,
        "query($c: UUID!) { objectives(cycle: $c, status: [ACTIVE, DRAFT]) { edges { cursor } } }",
        c=cycle,
    )
    assert listed["objectives"]["edges"] == []


async def test_the_settling_is_in_each_objectives_history_with_the_closing_person(
    editor: Api, auditor: Api
) -> None:
    quarter = await Quarter.closed(editor)

    last = (await history(auditor, quarter.active))[-1]

    assert last["eventType"] == "ObjectiveSettled"
    assert last["actor"] == "user-editor"
    assert "closed with its cycle" in last["summary"]
    assert {"field": "status", "from": "ACTIVE", "to": "CLOSED", "goalpostMoved": False} in last[
        "changes"
    ]


Command = Callable[[Api, Quarter], Awaitable[dict[str, Any]]]


async def _set_in_closed_cycle(api: Api, q: Quarter) -> dict[str, Any]:
    given = {"cycleId": q.cycle, "title": "Too late", "owner": "ana"}
    return await api.mutate("setObjective", given, OBJECTIVE)


async def _set_under_closed_parent(api: Api, q: Quarter) -> dict[str, Any]:
    other = (await start_cycle(api))["id"]
    given = {"cycleId": other, "title": "Child", "owner": "ana", "parentId": q.active}
    return await api.mutate("setObjective", given, OBJECTIVE)


async def _align_child_of_closed_cycle(api: Api, q: Quarter) -> dict[str, Any]:
    parent = (await set_objective(api))["id"]
    return await api.mutate(
        "alignObjective", {"objectiveId": q.active, "parentId": parent}, OBJECTIVE
    )


async def _align_under_closed_parent(api: Api, q: Quarter) -> dict[str, Any]:
    child = (await set_objective(api))["id"]
    return await api.mutate(
        "alignObjective", {"objectiveId": child, "parentId": q.active}, OBJECTIVE
    )


async def _link_to_kpi(api: Api, q: Quarter) -> dict[str, Any]:
    kpi = await define_kpi(api)
    given = {"objectiveId": q.active, "keyResultId": q.key_result, "kpiId": kpi["id"]}
    return await api.mutate("linkKeyResultToKpi", given, OBJECTIVE)


def _on(name: str, **given: Any) -> Command:
    async def run(api: Api, q: Quarter) -> dict[str, Any]:
        ids = {"objectiveId": q.active, "keyResultId": q.key_result}
        fields = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in given.items()}
        return await api.mutate(name, fields, OBJECTIVE)

    return run


REFUSED: dict[str, Command] = {
    "setObjective in the cycle": _set_in_closed_cycle,
    "setObjective under a parent in it": _set_under_closed_parent,
    "reviseObjective": _on("reviseObjective", objectiveId="objectiveId", title="New"),
    "alignObjective of its objective": _align_child_of_closed_cycle,
    "alignObjective under its objective": _align_under_closed_parent,
    "activateObjective": _on("activateObjective", objectiveId="objectiveId"),
    "addKeyResult": _on("addKeyResult", objectiveId="objectiveId", title="Ship", metric="BOOLEAN"),
    "reviseKeyResult": _on(
        "reviseKeyResult", objectiveId="objectiveId", keyResultId="keyResultId", title="K"
    ),
    "reviseKeyResult target": _on(
        "reviseKeyResult",
        objectiveId="objectiveId",
        keyResultId="keyResultId",
        target="50",
        reason="stretch",
    ),
    "removeKeyResult": _on("removeKeyResult", objectiveId="objectiveId", keyResultId="keyResultId"),
    "checkInKeyResult": _on(
        "checkInKeyResult",
        objectiveId="objectiveId",
        keyResultId="keyResultId",
        value="40",
        confidence="ON_TRACK",
    ),
    "linkKeyResultToKpi": _link_to_kpi,
}


@pytest.mark.parametrize("name", list(REFUSED))
async def test_a_change_to_a_closed_cycles_objective_is_refused_with_cycle_closed(
    editor: Api, name: str
) -> None:
    quarter = await Quarter.closed(editor)
    before = await objective(editor, quarter.active)

    result = await REFUSED[name](editor, quarter)

    assert (result["__typename"], result["code"]) == ("InvalidStateError", "CYCLE_CLOSED"), result
    assert await objective(editor, quarter.active) == before


async def test_a_closed_cycles_objective_can_still_be_graded_with_a_retrospective(
    editor: Api,
) -> None:
    quarter = await Quarter.closed(editor)

    graded = await editor.mutate(
        "gradeObjective",
        {"objectiveId": quarter.active, "score": "0.7", "retrospective": "Good stretch"},
        OBJECTIVE,
    )

    assert graded["__typename"] == "GradeObjectivePayload", graded
    assert (graded["objective"]["score"], graded["objective"]["retrospective"]) == (
        "0.7",
        "Good stretch",
    )
    assert graded["objective"]["status"] == "CLOSED"


async def test_a_linked_kpis_readings_are_recorded_but_no_longer_move_a_closed_cycles_key_result(
    editor: Api,
) -> None:
    cycle = (await start_cycle(editor))["id"]
    goal = (await set_objective(editor, cycle))["id"]
    key_result = (await add_key_result(editor, goal))["id"]
    await activate(editor, goal)
    kpi = await define_kpi(editor)
    linked = await editor.mutate(
        "linkKeyResultToKpi",
        {"objectiveId": goal, "keyResultId": key_result, "kpiId": kpi["id"]},
        OBJECTIVE,
    )
    assert linked["__typename"] == "LinkKeyResultToKpiPayload", linked
    await record_reading(editor, kpi["id"], "38", observedAt=observed(120))
    await close(editor, cycle)

    after = await record_reading(editor, kpi["id"], "44", observedAt=observed(30))

    assert after["kpi"]["readingCount"] == 2
    assert after["kpi"]["latestReading"]["value"] == "44"
    [kr] = (await objective(editor, goal))["keyResults"]
    assert kr["current"] == "38"


async def test_reopening_needs_a_reason_that_is_not_blank(admin: Api, editor: Api) -> None:
    quarter = await Quarter.closed(editor)

    blank = await reopen(admin, quarter.cycle, "  ")
    missing = await admin.post(
        "mutation($c: UUID!) { reopenCycle(input: {cycleId: $c}) { __typename } }",
        {"c": quarter.cycle},
    )

    assert (blank["__typename"], blank["code"], blank["field"]) == (
        "ValidationError",
        "REASON_REQUIRED",
        "reason",
    )
    assert missing["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    listed = (await read(editor, "{ cycles { id closed } }"))["cycles"]
    assert {"id": quarter.cycle, "closed": True} in listed


async def test_only_an_admin_may_reopen_a_cycle(
    client: ApiClient, tenant: str, editor: Api
) -> None:
    quarter = await Quarter.closed(editor)

    body = await editor.post(
        'mutation($c: UUID!) { reopenCycle(input: {cycleId: $c, reason: "late"}) { __typename } }',
        {"c": quarter.cycle},
    )

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_reopening_shows_in_the_history_and_commands_work_again(
    admin: Api, editor: Api, auditor: Api
) -> None:
    quarter = await Quarter.closed(editor)
    reason = "Support's check-in of 30 December was lost in an outage"

    reopened = await reopen(admin, quarter.cycle, reason)

    assert reopened["__typename"] == "ReopenCyclePayload", reopened
    assert reopened["cycle"]["closed"] is False
    last = (await history(auditor, quarter.cycle))[-1]
    assert (last["eventType"], last["reason"], last["actor"]) == (
        "CycleReopened",
        reason,
        "user-admin",
    )
    assert "reopened after its close" in last["summary"]
    # The settled objective stays closed until its team activates it again.
    assert (await objective(editor, quarter.active))["status"] == "CLOSED"
    await activate(editor, quarter.active)
    checked = await check_in(editor, quarter.active, quarter.key_result, "40")
    assert checked["objective"]["keyResults"][0]["current"] == "40"
    assert (await set_objective(editor, quarter.cycle))["status"] == "DRAFT"


async def test_no_check_in_racing_a_close_is_recorded_after_the_objective_is_settled(
    editor: Api, auditor: Api
) -> None:
    cycle = (await start_cycle(editor))["id"]
    goal = (await set_objective(editor, cycle))["id"]
    key_result = (await add_key_result(editor, goal))["id"]
    await activate(editor, goal)
    check_ins = [
        editor.mutate(
            "checkInKeyResult",
            {"objectiveId": goal, "keyResultId": key_result, "value": str(32 + n),
             "confidence": "ON_TRACK", "commandId": str(uuid4())},
            OBJECTIVE,
        )
        for n in range(12)
    ]  # fmt: skip

    answers = await asyncio.gather(close(editor, cycle), *check_ins)

    refused = [a for a in answers[1:] if a["__typename"] != "CheckInKeyResultPayload"]
    assert all(a["code"] == "CYCLE_CLOSED" for a in refused), refused
    events = [entry["eventType"] for entry in await history(auditor, goal)]
    settled_at = events.index("ObjectiveSettled")
    assert "KeyResultCheckedIn" not in events[settled_at:]
    accepted = len(answers) - 1 - len(refused)
    assert events.count("KeyResultCheckedIn") == accepted
