"""The role matrix for every mutation: allowed roles reach the command, others are refused."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from okrledger.services.identity import Role
from tests.e2e.okr_steps import CYCLE
from tests.e2e.server import Api, ApiClient, as_caller

GOAL_EDITORS = {Role.ADMIN, Role.EDITOR}
SETTINGS_EDITORS = {Role.ADMIN}


def any_id() -> str:
    return str(uuid4())


# Each mutation with an input of the right shape (its ids need not exist) and who may run it.
MUTATIONS: dict[str, tuple[dict[str, Any], set[Role]]] = {
    "startCycle": (
        {"name": "Q", "startsOn": "2026-10-01", "endsOn": "2026-12-31"},
        GOAL_EDITORS,
    ),
    "closeCycle": ({"cycleId": any_id()}, GOAL_EDITORS),
    "reopenCycle": ({"cycleId": any_id(), "reason": "a late check-in"}, SETTINGS_EDITORS),
    "setObjective": ({"cycleId": any_id(), "title": "T", "owner": "o"}, GOAL_EDITORS),
    "reviseObjective": ({"objectiveId": any_id(), "title": "T"}, GOAL_EDITORS),
    "assignObjectiveOwner": ({"objectiveId": any_id(), "owner": "o"}, GOAL_EDITORS),
    "alignObjective": ({"objectiveId": any_id(), "parentId": None}, GOAL_EDITORS),
    "activateObjective": ({"objectiveId": any_id()}, GOAL_EDITORS),
    "gradeObjective": ({"objectiveId": any_id(), "score": "0.5"}, GOAL_EDITORS),
    "closeObjective": ({"objectiveId": any_id()}, GOAL_EDITORS),
    "archiveObjective": ({"objectiveId": any_id()}, GOAL_EDITORS),
    "restoreObjective": ({"objectiveId": any_id()}, GOAL_EDITORS),
    "addKeyResult": (
        {"objectiveId": any_id(), "title": "K", "metric": "BOOLEAN"},
        GOAL_EDITORS,
    ),
    "reviseKeyResult": ({"objectiveId": any_id(), "keyResultId": any_id()}, GOAL_EDITORS),
    "removeKeyResult": ({"objectiveId": any_id(), "keyResultId": any_id()}, GOAL_EDITORS),
    "checkInKeyResult": (
        {
            "objectiveId": any_id(),
            "keyResultId": any_id(),
            "value": "1",
            "confidence": "ON_TRACK",
        },
        GOAL_EDITORS,
    ),
    "setOkrPolicy": ({"maxKeyResults": 4}, SETTINGS_EDITORS),
}

CASES = [
    pytest.param(name, role, role in allowed, id=f"{name}-{role.value}")
    for name, (_, allowed) in MUTATIONS.items()
    for role in Role
]


async def run(api: Api, name: str) -> dict[str, Any]:
    given, _ = MUTATIONS[name]
    input_type = name[0].upper() + name[1:] + "Input"
    return await api.post(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename }} }}",
        {"input": given},
    )


@pytest.mark.parametrize(("name", "role", "allowed"), CASES)
async def test_each_role_may_run_exactly_the_mutations_the_matrix_gives_it(
    client: ApiClient, tenant: str, name: str, role: Role, allowed: bool
) -> None:
    body = await run(as_caller(client, tenant, role), name)

    if allowed:
        assert "errors" not in body, body
        assert body["data"][name]["__typename"]
    else:
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["path"] == [name]


@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_a_request_without_a_token_is_unauthenticated(client: ApiClient, name: str) -> None:
    body = await run(Api(client, {}), name)

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_forbidden_mutation_records_nothing(client: ApiClient, tenant: str) -> None:
    viewer = as_caller(client, tenant, Role.VIEWER)
    editor = as_caller(client, tenant, Role.EDITOR)
    cycle = {"name": "2026-Q4", "startsOn": "2026-10-01", "endsOn": "2026-12-31"}

    refused = await viewer.post(
        "mutation($input: StartCycleInput!) { startCycle(input: $input) { __typename } }",
        {"input": cycle},
    )
    started = await editor.mutate("startCycle", cycle, CYCLE)

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert started["__typename"] == "StartCyclePayload"
    assert started["position"] == 1


async def test_anonymous_callers_may_still_ask_the_server_version(
    client: ApiClient,
) -> None:
    response = await client.get("/graphql", params={"query": "{ serverVersion }"})

    assert response.status_code == 200
    assert response.json()["data"]["serverVersion"]
