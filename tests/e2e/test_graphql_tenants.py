"""A caller sees and changes only its own tenant, whatever ids it sends."""

from __future__ import annotations

from okrledger.services.identity import Role
from tests.e2e.okr_steps import OBJECTIVE, add_key_result, set_objective
from tests.e2e.server import Api, ApiClient, as_caller


async def test_another_tenants_objective_is_not_found_and_stays_unchanged(
    client: ApiClient, editor: Api, other_tenant: str
) -> None:
    theirs = as_caller(client, other_tenant, Role.EDITOR)
    objective = await set_objective(theirs, title="Their secret plan")

    result = await editor.mutate(
        "reviseObjective", {"objectiveId": objective["id"], "title": "Mine now"}, OBJECTIVE
    )
    unchanged = await theirs.mutate(
        "assignObjectiveOwner", {"objectiveId": objective["id"], "owner": "ana"}, OBJECTIVE
    )

    assert result["__typename"] == "NotFoundError"
    assert "Their secret plan" not in result["message"]
    assert unchanged["objective"]["title"] == "Their secret plan"
    assert unchanged["version"] == 1


async def test_an_objective_cannot_be_set_in_another_tenants_cycle(
    client: ApiClient, editor: Api, other_tenant: str
) -> None:
    theirs = as_caller(client, other_tenant, Role.EDITOR)
    cycle_id = (await set_objective(theirs))["cycleId"]

    result = await editor.mutate(
        "setObjective", {"cycleId": cycle_id, "title": "T", "owner": "ana"}, OBJECTIVE
    )

    assert result["__typename"] == "NotFoundError"


async def test_another_tenants_key_result_cannot_be_checked_in(
    client: ApiClient, editor: Api, other_tenant: str
) -> None:
    theirs = as_caller(client, other_tenant, Role.EDITOR)
    objective = await set_objective(theirs)
    key_result = await add_key_result(theirs, objective["id"])

    result = await editor.mutate(
        "checkInKeyResult",
        {
            "objectiveId": objective["id"],
            "keyResultId": key_result["id"],
            "value": "40",
            "confidence": "ON_TRACK",
        },
        OBJECTIVE,
    )

    assert result["__typename"] == "NotFoundError"


async def test_an_objective_cannot_align_under_another_tenants_objective(
    client: ApiClient, editor: Api, other_tenant: str
) -> None:
    theirs = as_caller(client, other_tenant, Role.EDITOR)
    their_parent = await set_objective(theirs)
    mine = await set_objective(editor)

    result = await editor.mutate(
        "alignObjective", {"objectiveId": mine["id"], "parentId": their_parent["id"]}, OBJECTIVE
    )

    assert result["__typename"] == "NotFoundError"
