"""The tenant's OKR policy over HTTP: anyone who reads goals reads it, admins set it, a soft
cap answers a warning with the change, a hard cap refuses the change."""

from __future__ import annotations

from typing import Any

from okrledger.services.identity import Role
from tests.e2e.okr_steps import OBJECTIVE, set_objective, start_cycle
from tests.e2e.read_steps import read
from tests.e2e.server import Api, ApiClient, as_caller

POLICY = (
    "okrPolicy { maxKeyResults softMaxKeyResults maxActiveObjectives softMaxActiveObjectives "
    "allowPercentStretch version updatedAt }"
)
WARNED = OBJECTIVE + " ... on ObjectivePayload { warnings }"


async def set_policy(admin: Api, **given: Any) -> dict[str, Any]:
    result = await admin.mutate(
        "setOkrPolicy", given, "... on SetOkrPolicyPayload { version policy { version } }"
    )
    assert result["__typename"] == "SetOkrPolicyPayload", result
    return result


async def add_number(api: Api, objective_id: str) -> dict[str, Any]:
    return await api.mutate(
        "addKeyResult",
        {"objectiveId": objective_id, "title": "Calls", "metric": "NUMBER", "start": "0",
         "target": "10"},
        WARNED,
    )  # fmt: skip


async def test_a_viewer_reads_the_default_policy_before_any_is_set(
    client: ApiClient, tenant: str
) -> None:
    viewer = as_caller(client, tenant, Role.VIEWER)

    policy = (await read(viewer, f"{{ {POLICY} }}"))["okrPolicy"]

    assert policy == {
        "maxKeyResults": 5,
        "softMaxKeyResults": None,
        "maxActiveObjectives": None,
        "softMaxActiveObjectives": 5,
        "allowPercentStretch": False,
        "version": 0,
        "updatedAt": None,
    }


async def test_the_policy_an_admin_sets_is_what_an_editor_reads(admin: Api, editor: Api) -> None:
    await set_policy(
        admin, maxKeyResults=7, softMaxKeyResults=4, maxActiveObjectives=6,
        softMaxActiveObjectives=3,
    )  # fmt: skip

    policy = (await read(editor, f"{{ {POLICY} }}"))["okrPolicy"]

    assert {k: v for k, v in policy.items() if k != "updatedAt"} == {
        "maxKeyResults": 7,
        "softMaxKeyResults": 4,
        "maxActiveObjectives": 6,
        "softMaxActiveObjectives": 3,
        "allowPercentStretch": False,
        "version": 2,
    }
    assert policy["updatedAt"] is not None


async def test_a_soft_cap_above_the_hard_one_is_refused_naming_it(admin: Api) -> None:
    result = await admin.mutate("setOkrPolicy", {"maxKeyResults": 4, "softMaxKeyResults": 5}, "")

    assert result["__typename"] == "ValidationError"
    assert (result["code"], result["field"]) == ("VALIDATION", "softMaxKeyResults")
    assert (await read(admin, "{ okrPolicy { version } }"))["okrPolicy"]["version"] == 0


async def test_a_key_result_past_the_soft_cap_is_added_with_a_warning(
    admin: Api, editor: Api
) -> None:
    await set_policy(admin, maxKeyResults=3, softMaxKeyResults=2)
    objective = await set_objective(editor)
    first, second = [await add_number(editor, objective["id"]) for _ in range(2)]

    third = await add_number(editor, objective["id"])

    assert (first["warnings"], second["warnings"]) == ([], [])
    assert third["__typename"] == "AddKeyResultPayload"
    assert len(third["objective"]["keyResults"]) == 3
    [warning] = third["warnings"]
    assert "3 key results" in warning


async def test_a_key_result_past_the_hard_cap_is_refused(admin: Api, editor: Api) -> None:
    await set_policy(admin, maxKeyResults=2, softMaxKeyResults=1)
    objective = await set_objective(editor)
    for _ in range(2):
        await add_number(editor, objective["id"])

    refused = await add_number(editor, objective["id"])

    assert (refused["__typename"], refused["code"]) == ("InvalidStateError", "INVALID_STATE")
    assert "the limit is 2" in refused["message"]


async def activate(api: Api, objective_id: str) -> dict[str, Any]:
    return await api.mutate("activateObjective", {"objectiveId": objective_id}, WARNED)


async def test_an_owner_past_the_soft_cap_on_active_objectives_is_warned(
    admin: Api, editor: Api
) -> None:
    await set_policy(admin, maxKeyResults=5, softMaxActiveObjectives=1)
    cycle = await start_cycle(editor)
    first = await set_objective(editor, cycle["id"], owner="maya")
    second = await set_objective(editor, cycle["id"], owner="maya")
    other = await set_objective(editor, cycle["id"], owner="sam")

    answers = [await activate(editor, o["id"]) for o in (first, other, second)]

    assert [a["__typename"] for a in answers] == ["ActivateObjectivePayload"] * 3
    assert (answers[0]["warnings"], answers[1]["warnings"]) == ([], [])
    [warning] = answers[2]["warnings"]
    assert "maya now has 2 active objectives" in warning


async def test_an_owner_past_the_hard_cap_on_active_objectives_is_refused(
    admin: Api, editor: Api
) -> None:
    await set_policy(admin, maxKeyResults=5, maxActiveObjectives=1, softMaxActiveObjectives=1)
    cycle = await start_cycle(editor)
    first = await set_objective(editor, cycle["id"], owner="maya")
    second = await set_objective(editor, cycle["id"], owner="maya")
    elsewhere = await set_objective(editor, owner="maya")  # another cycle
    await activate(editor, first["id"])

    refused = await activate(editor, second["id"])
    other_cycle = await activate(editor, elsewhere["id"])

    assert (refused["__typename"], refused["code"]) == ("InvalidStateError", "INVALID_STATE")
    assert "limit is 1" in refused["message"]
    unchanged = (await read(editor, "query($id: UUID!) { objective(id: $id) { status version } }",
                            id=second["id"]))["objective"]  # fmt: skip
    assert unchanged == {"status": "DRAFT", "version": second["version"]}
    assert other_cycle["__typename"] == "ActivateObjectivePayload"


async def test_handing_an_active_objective_to_an_owner_at_the_hard_cap_is_refused(
    admin: Api, editor: Api
) -> None:
    await set_policy(admin, maxKeyResults=5, maxActiveObjectives=1, softMaxActiveObjectives=1)
    cycle = await start_cycle(editor)
    hers = await set_objective(editor, cycle["id"], owner="maya")
    his = await set_objective(editor, cycle["id"], owner="sam")
    for objective in (hers, his):
        await activate(editor, objective["id"])

    refused = await editor.mutate(
        "assignObjectiveOwner", {"objectiveId": his["id"], "owner": "maya"}, WARNED
    )
    renamed_team = await editor.mutate(
        "assignObjectiveOwner", {"objectiveId": hers["id"], "owner": "maya", "team": "Ops"}, WARNED
    )

    assert (refused["__typename"], refused["code"]) == ("InvalidStateError", "INVALID_STATE")
    assert renamed_team["__typename"] == "AssignObjectiveOwnerPayload"


async def test_restoring_an_active_objective_past_the_hard_cap_is_refused(
    admin: Api, editor: Api
) -> None:
    await set_policy(admin, maxKeyResults=5, maxActiveObjectives=1, softMaxActiveObjectives=1)
    cycle = await start_cycle(editor)
    first = await set_objective(editor, cycle["id"], owner="maya")
    second = await set_objective(editor, cycle["id"], owner="maya")
    await activate(editor, first["id"])
    await editor.mutate("archiveObjective", {"objectiveId": first["id"]}, WARNED)
    await activate(editor, second["id"])

    refused = await editor.mutate("restoreObjective", {"objectiveId": first["id"]}, WARNED)

    assert (refused["__typename"], refused["code"]) == ("InvalidStateError", "INVALID_STATE")


async def test_a_policy_change_is_in_the_history_with_the_caps_it_set(admin: Api) -> None:
    await set_policy(admin, maxKeyResults=5)
    await set_policy(admin, maxKeyResults=5, softMaxKeyResults=3, maxActiveObjectives=9)

    history = await read(
        admin,
        '{ auditLog(filter: {eventTypes: ["tenant.configured.v1", "tenant.okr_policy.set.v1"]}) '
        "{ edges { node { eventType summary changes { field from to } } } } }",
    )

    latest, first = [edge["node"] for edge in history["auditLog"]["edges"]]
    assert first["eventType"] == "TenantConfigured"
    assert {c["field"] for c in first["changes"]} == {"maxKeyResults", "allowPercentStretch"}
    assert latest["eventType"] == "OKRPolicySet"
    assert latest["changes"] == [
        {"field": "softMaxKeyResults", "from": None, "to": "3"},
        {"field": "maxActiveObjectives", "from": None, "to": "9"},
    ]
    assert "softMaxKeyResults 3" in latest["summary"]
