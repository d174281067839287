"""Who may read what, field by field, and that ids of another tenant read as nothing."""

from __future__ import annotations

from typing import Any

import pytest

from okrledger.services.identity import Role
from tests.e2e.okr_steps import add_key_result, set_objective
from tests.e2e.read_steps import nodes, read, refused
from tests.e2e.server import Api, ApiClient, as_caller

ANY_ID = "00000000-0000-0000-0000-000000000001"
GOAL_READERS = {Role.ADMIN, Role.EDITOR, Role.VIEWER, Role.AUDITOR}
HISTORY_READERS = {Role.ADMIN, Role.AUDITOR}

# Each root query field, a document that reaches it, and who may read it.
QUERIES: dict[str, tuple[str, set[Role]]] = {
    "me": ("{ me { subject } }", set(Role)),
    "cycles": ("{ cycles { id } }", GOAL_READERS),
    "objective": (f'{{ objective(id: "{ANY_ID}") {{ id }} }}', GOAL_READERS),
    "objectives": ("{ objectives { edges { cursor } } }", GOAL_READERS),
    "okrTree": (f'{{ okrTree(cycle: "{ANY_ID}") {{ roots {{ id }} }} }}', GOAL_READERS),
    "keyResult": (f'{{ keyResult(id: "{ANY_ID}") {{ id }} }}', GOAL_READERS),
    "okrPolicy": ("{ okrPolicy { maxKeyResults } }", GOAL_READERS),
    "goalHistory": (
        f'{{ goalHistory(streamId: "{ANY_ID}") {{ edges {{ cursor }} }} }}',
        HISTORY_READERS,
    ),
    "auditLog": ("{ auditLog { edges { cursor } } }", HISTORY_READERS),
    "goalpostChanges": (
        f'{{ goalpostChanges(cycle: "{ANY_ID}") {{ edges {{ cursor }} }} }}',
        HISTORY_READERS,
    ),
    "verifyAuditChain": ("{ verifyAuditChain { ok } }", HISTORY_READERS),
    "okrTreeDiff": (
        f'{{ okrTreeDiff(cycle: "{ANY_ID}", from: {{position: 0}}, to: {{position: 1}}) '
        "{ cycle { id } } }",
        HISTORY_READERS,
    ),
}

CASES = [
    pytest.param(name, role, role in allowed, id=f"{name}-{role.value}")
    for name, (_, allowed) in QUERIES.items()
    for role in Role
]


@pytest.mark.parametrize(("name", "role", "allowed"), CASES)
async def test_each_role_may_read_exactly_the_fields_the_matrix_gives_it(
    client: ApiClient, tenant: str, name: str, role: Role, allowed: bool
) -> None:
    body = await as_caller(client, tenant, role).post(QUERIES[name][0])

    if allowed:
        assert "errors" not in body, body
        assert name in body["data"]
    else:
        [error] = body["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["path"] == [name]


@pytest.mark.parametrize("name", list(QUERIES))
async def test_a_read_without_a_token_is_unauthenticated(client: ApiClient, name: str) -> None:
    body = await Api(client, {}).post(QUERIES[name][0])

    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("role", "allowed"), [(r, r in HISTORY_READERS) for r in Role if r in GOAL_READERS]
)
async def test_of_the_goal_readers_only_history_readers_see_an_objectives_history(
    client: ApiClient, tenant: str, editor: Api, role: Role, allowed: bool
) -> None:
    objective = await set_objective(editor)
    query = "query($id: UUID!) { objective(id: $id) { title history { edges { cursor } } } }"

    body = await as_caller(client, tenant, role).post(query, {"id": objective["id"]})

    if allowed:
        assert "errors" not in body, body
        assert len(body["data"]["objective"]["history"]["edges"]) == 1
    else:
        [error] = body["errors"]
        assert (error["extensions"]["code"], error["path"]) == (
            "FORBIDDEN",
            ["objective", "history"],
        )
        assert body["data"]["objective"] is None


async def test_another_tenants_ids_read_as_null_or_empty(
    client: ApiClient, tenant: str, other_tenant: str
) -> None:
    theirs = as_caller(client, other_tenant, Role.EDITOR)
    objective = await set_objective(theirs, title="Their secret plan")
    key_result = await add_key_result(theirs, objective["id"])
    mine = as_caller(client, tenant, Role.ADMIN)
    ids: dict[str, Any] = {
        "o": objective["id"],
        "k": key_result["id"],
        "c": objective["cycleId"],
    }

    data = await read(
        mine,
        """query($o: UUID!, $k: UUID!, $c: UUID!) {
             objective(id: $o) { title }
             keyResult(id: $k) { title }
             okrTree(cycle: $c) { roots { title } }
             objectives(cycle: $c) { edges { node { title } } }
             cycles { id }
             goalHistory(streamId: $o) { edges { node { summary } } }
             goalpostChanges(cycle: $c) { edges { node { summary } } }
             auditLog { edges { node { summary } } } }""",
        **ids,
    )

    assert data["objective"] is None
    assert data["keyResult"] is None
    assert data["okrTree"] is None
    assert nodes(data["objectives"]) == []
    assert data["cycles"] == []
    assert nodes(data["goalHistory"]) == []
    assert nodes(data["goalpostChanges"]) == []
    assert nodes(data["auditLog"]) == []


async def test_another_tenants_chain_is_not_checked_for_you(
    client: ApiClient, tenant: str, other_tenant: str
) -> None:
    await set_objective(as_caller(client, other_tenant, Role.EDITOR))

    check = await read(
        as_caller(client, tenant, Role.AUDITOR), "{ verifyAuditChain { ok checked } }"
    )

    assert check["verifyAuditChain"] == {"ok": True, "checked": 0}


async def test_a_refused_field_says_nothing_of_the_data(client: ApiClient, tenant: str) -> None:
    error = await refused(as_caller(client, tenant, Role.INTEGRATOR), "{ cycles { name } }")

    assert error["message"] == "Forbidden: your roles do not allow read goals and KPIs"
