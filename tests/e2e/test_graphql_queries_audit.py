"""For auditors over the API: goalposts moved in a cycle, and the hash chain checked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from okrledger.services.identity import Role
from tests.e2e.okr_steps import add_key_result, set_objective, start_cycle
from tests.e2e.read_steps import CHANGE, nodes, read, revise_target
from tests.e2e.server import Api, ApiClient, as_caller

GOALPOSTS = f"""query($cycle: UUID!) {{
  goalpostChanges(cycle: $cycle) {{ edges {{ node {{ streamId {CHANGE} }} }} }} }}"""
CHAIN = """query($from: Int!, $to: Int) {
  verifyAuditChain(fromPosition: $from, toPosition: $to) {
    ok checked lastPosition brokenAt problem } }"""


@pytest.fixture
def auditor(client: ApiClient, tenant: str) -> Api:
    return as_caller(client, tenant, Role.AUDITOR)


@pytest.fixture
async def owner(owner_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(owner_dsn)
    yield connection
    await connection.close()


async def test_goalpost_changes_list_every_moved_start_or_target_in_the_cycle(
    editor: Api, auditor: Api
) -> None:
    cycle = await start_cycle(editor)
    objective = await set_objective(editor, cycle["id"])
    key_result = await add_key_result(editor, objective["id"])  # 31 -> 45
    await editor.mutate(
        "reviseKeyResult",
        {"objectiveId": objective["id"], "keyResultId": key_result["id"], "title": "NPS up"},
        "",
    )
    moved = await revise_target(editor, objective["id"], key_result["id"], "38", "market fell")
    elsewhere = await set_objective(editor)  # another cycle
    other_kr = await add_key_result(editor, elsewhere["id"])
    await revise_target(editor, elsewhere["id"], other_kr["id"], "50", "new plan")

    data = await read(auditor, GOALPOSTS, cycle=cycle["id"])

    [change] = nodes(data["goalpostChanges"])
    assert change["streamId"] == objective["id"]
    assert change["position"] == moved["position"]
    assert (change["actor"], change["reason"]) == ("user-editor", "market fell")
    assert change["changes"] == [
        {"field": "target", "from": "45", "to": "38", "goalpostMoved": True}
    ]


async def test_an_untouched_audit_chain_verifies(editor: Api, auditor: Api) -> None:
    objective = await set_objective(editor)
    await add_key_result(editor, objective["id"])

    whole = (await read(auditor, CHAIN, **{"from": 1}))["verifyAuditChain"]
    part = (await read(auditor, CHAIN, **{"from": 2, "to": 2}))["verifyAuditChain"]

    assert whole == {"ok": True, "checked": 3, "lastPosition": 3, "brokenAt": None, "problem": None}
    assert (part["ok"], part["checked"]) == (True, 1)


async def test_an_event_edited_in_the_database_breaks_the_chain_at_its_position(
    editor: Api, auditor: Api, owner: asyncpg.Connection, tenant: str
) -> None:
    objective = await set_objective(editor)
    await add_key_result(editor, objective["id"])
    await owner.execute("SELECT set_config('okrledger.tenant_id', $1, false)", tenant)
    await owner.execute(
        "UPDATE events SET actor = 'mallory' WHERE tenant_id = $1 AND position = 2", tenant
    )

    check = (await read(auditor, CHAIN, **{"from": 1}))["verifyAuditChain"]

    assert check["ok"] is False
    assert (check["brokenAt"], check["checked"], check["lastPosition"]) == (2, 1, 1)
    assert check["problem"] == "the event does not match its stored hash"
