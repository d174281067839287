"""The change history over the API: one goal's story, objective.history and the audit log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from okrledger.services.identity import Role
from tests.e2e.okr_steps import OBJECTIVE, add_key_result, set_objective
from tests.e2e.read_steps import CHANGE, nodes, read, revise_target
from tests.e2e.server import Api, ApiClient, as_caller

HISTORY = f"""query($id: UUID!, $first: Int!, $after: String, $order: HistoryOrder!) {{
  goalHistory(streamId: $id, first: $first, after: $after, order: $order) {{
    edges {{ node {{ {CHANGE} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""


@pytest.fixture
def auditor(client: ApiClient, tenant: str) -> Api:
    return as_caller(client, tenant, Role.AUDITOR)


async def test_goal_history_tells_who_changed_what_from_what_to_what_and_why(
    editor: Api, auditor: Api
) -> None:
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])  # target 45
    revised = await revise_target(editor, objective["id"], key_result["id"], "40", "too bold")

    data = await read(auditor, HISTORY, id=objective["id"], first=1, order="NEWEST_FIRST")

    [latest] = nodes(data["goalHistory"])
    assert latest["position"] == revised["position"]
    assert latest["eventType"] == "KeyResultRevised"
    assert latest["actor"] == "user-editor"
    assert latest["reason"] == "too bold"
    assert "45" in latest["summary"] and "40" in latest["summary"]
    # The cycle began on 2026-10-01: moving a target now moves a goalpost.
    assert latest["changes"] == [
        {"field": "target", "from": "45", "to": "40", "goalpostMoved": True}
    ]
    assert datetime.fromisoformat(latest["recordedAt"]) <= datetime.now(UTC)


async def test_goal_history_pages_oldest_first_through_every_change(
    editor: Api, auditor: Api
) -> None:
    objective = await set_objective(editor)
    for title in ("One", "Two", "Three"):
        await editor.mutate(
            "reviseObjective", {"objectiveId": objective["id"], "title": title}, OBJECTIVE
        )

    seen: list[str] = []
    after = None
    while True:
        page = (
            await read(
                auditor, HISTORY, id=objective["id"], first=3, after=after, order="OLDEST_FIRST"
            )
        )["goalHistory"]
        seen += [n["eventType"] for n in nodes(page)]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == ["ObjectiveSet"] + ["ObjectiveRevised"] * 3


async def test_an_objectives_history_is_a_field_of_the_objective(editor: Api, auditor: Api) -> None:
    objective = await set_objective(editor)
    await add_key_result(editor, objective["id"])

    data = await read(
        auditor,
        """query($id: UUID!) { objective(id: $id) {
             history(first: 10, order: OLDEST_FIRST) { edges { node { eventType } } } } }""",
        id=objective["id"],
    )

    assert [n["eventType"] for n in nodes(data["objective"]["history"])] == [
        "ObjectiveSet",
        "KeyResultAdded",
    ]


async def test_the_audit_log_is_filtered_by_actor_event_type_and_time(
    client: ApiClient, tenant: str, editor: Api, auditor: Api
) -> None:
    other = as_caller(client, tenant, Role.ADMIN)
    objective = await set_objective(editor)
    await asyncio.sleep(0.05)
    since = datetime.now(UTC)
    await editor.mutate(
        "reviseObjective", {"objectiveId": objective["id"], "title": "Mine"}, OBJECTIVE
    )
    await other.mutate(
        "reviseObjective", {"objectiveId": objective["id"], "title": "Theirs"}, OBJECTIVE
    )
    query = f"""query($filter: AuditLogFilter) {{
      auditLog(filter: $filter) {{ edges {{ node {{ {CHANGE} }} }} }} }}"""

    everything = nodes((await read(auditor, query))["auditLog"])
    by_actor = nodes((await read(auditor, query, filter={"actor": "user-admin"}))["auditLog"])
    by_type = nodes(
        (await read(auditor, query, filter={"eventTypes": ["okr.objective.set.v1"]}))["auditLog"]
    )
    by_time = nodes(
        (
            await read(
                auditor,
                query,
                filter={"from": since.isoformat(), "to": datetime.now(UTC).isoformat()},
            )
        )["auditLog"]
    )

    assert [e["eventType"] for e in everything] == [
        "ObjectiveRevised",
        "ObjectiveRevised",
        "ObjectiveSet",
        "CycleStarted",
    ]
    assert [e["actor"] for e in by_actor] == ["user-admin"]
    assert [e["eventType"] for e in by_type] == ["ObjectiveSet"]
    assert [e["actor"] for e in by_time] == ["user-admin", "user-editor"]
