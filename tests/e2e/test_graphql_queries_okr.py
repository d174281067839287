"""Reading OKRs over the API: cycles, objectives, the tree (now and as of), key results."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from okrledger.services.identity import Role
from tests.e2e.okr_steps import OBJECTIVE, activate, add_key_result, set_objective, start_cycle
from tests.e2e.read_steps import check_in, nodes, read, refused
from tests.e2e.server import Api, ApiClient, as_caller

TREE = """query($cycle: UUID!, $asOf: AsOfInput) {
  okrTree(cycle: $cycle, asOf: $asOf) {
    cycle { id name } asOfPosition asOfTime
    roots { id title rolledUpProgress progress pace keyResults { id title progress }
            children { id title rolledUpProgress children { id } } }
  }
}"""


async def test_me_names_the_callers_subject_tenant_roles_and_capabilities(
    client: ApiClient, tenant: str
) -> None:
    viewer = as_caller(client, tenant, Role.VIEWER)

    data = await read(viewer, "{ me { subject tenantId roles capabilities } }")

    assert data["me"] == {
        "subject": "user-viewer",
        "tenantId": tenant,
        "roles": ["VIEWER"],
        "capabilities": ["READ_GOALS", "SUBSCRIBE"],
    }


async def test_cycles_lists_the_tenants_cycles_latest_start_first(editor: Api) -> None:
    await editor.mutate(
        "startCycle", {"name": "2026-Q3", "startsOn": "2026-07-01", "endsOn": "2026-09-30"}, ""
    )
    await start_cycle(editor, "2026-Q4")

    data = await read(editor, "{ cycles { name startsOn closed version } }")

    assert [c["name"] for c in data["cycles"]] == ["2026-Q4", "2026-Q3"]
    assert data["cycles"][0] == {
        "name": "2026-Q4",
        "startsOn": "2026-10-01",
        "closed": False,
        "version": 1,
    }


async def test_an_objective_is_read_with_its_key_results_progress_and_cycle(editor: Api) -> None:
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])  # 31 -> 45
    await check_in(editor, objective["id"], key_result["id"], "38")

    data = await read(
        editor,
        """query($id: UUID!) { objective(id: $id) {
             title owner status progress rolledUpProgress version
             cycle { id } keyResults { id current progress confidence objective { id } } } }""",
        id=objective["id"],
    )

    found = data["objective"]
    assert found["title"] == "Delight customers"
    assert Decimal(found["progress"]) == Decimal("0.5")
    assert Decimal(found["rolledUpProgress"]) == Decimal("0.5")
    assert found["version"] == 3
    assert found["cycle"]["id"] == objective["cycleId"]
    [kr] = found["keyResults"]
    assert (Decimal(kr["current"]), kr["confidence"]) == (Decimal(38), "ON_TRACK")
    assert kr["objective"]["id"] == objective["id"]


async def test_an_objective_that_does_not_exist_is_null(editor: Api) -> None:
    data = await read(editor, '{ objective(id: "00000000-0000-0000-0000-000000000001") { id } }')

    assert data["objective"] is None


async def test_a_key_result_is_read_by_id_with_its_objective(editor: Api) -> None:
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])

    data = await read(
        editor,
        "query($id: UUID!) { keyResult(id: $id) { title start target objective { id title } } }",
        id=key_result["id"],
    )

    assert data["keyResult"] == {
        "title": "Raise NPS",
        "start": "31",
        "target": "45",
        "objective": {"id": objective["id"], "title": "Delight customers"},
    }


async def test_objectives_are_paged_with_cursors_until_the_last_page(editor: Api) -> None:
    cycle = await start_cycle(editor)
    titles = [f"Goal {n}" for n in range(5)]
    for title in titles:
        await set_objective(editor, cycle["id"], title=title)
    query = """query($cycle: UUID!, $after: String) {
      objectives(cycle: $cycle, first: 2, after: $after) {
        edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""

    seen, after, pages = [], None, 0
    while True:
        page = (await read(editor, query, cycle=cycle["id"], after=after))["objectives"]
        pages += 1
        seen += [n["title"] for n in nodes(page)]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert (seen, pages) == (titles, 3)


async def test_objectives_are_filtered_by_owner_and_status(editor: Api) -> None:
    cycle = await start_cycle(editor)
    active = await set_objective(editor, cycle["id"], owner="ana", title="Active of ana")
    await activate(editor, active["id"])
    await set_objective(editor, cycle["id"], owner="ana", title="Draft of ana")
    await set_objective(editor, cycle["id"], owner="bo", title="Draft of bo")

    data = await read(
        editor,
        """query($cycle: UUID!) {
             byOwner: objectives(cycle: $cycle, owner: "ana") { edges { node { title } } }
             byStatus: objectives(cycle: $cycle, status: ACTIVE) { edges { node { title } } } }""",
        cycle=cycle["id"],
    )

    assert [n["title"] for n in nodes(data["byOwner"])] == ["Active of ana", "Draft of ana"]
    assert [n["title"] for n in nodes(data["byStatus"])] == ["Active of ana"]


async def test_a_page_larger_than_the_maximum_is_refused_with_the_field(editor: Api) -> None:
    error = await refused(editor, "{ objectives(first: 501) { edges { cursor } } }")

    assert error["extensions"] == {"code": "VALIDATION", "field": "first"}
    assert "500" in error["message"]


async def test_a_cursor_of_another_list_is_refused(editor: Api) -> None:
    error = await refused(editor, '{ objectives(after: "bm9wZToz") { edges { cursor } } }')

    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["field"] == "after"


async def test_the_okr_tree_nests_children_under_roots_with_rolled_up_progress(
    editor: Api,
) -> None:
    cycle = await start_cycle(editor)
    parent = await set_objective(editor, cycle["id"], title="Company")
    child = await set_objective(editor, cycle["id"], title="Team", parentId=parent["id"])
    key_result = await add_key_result(editor, child["id"])  # 31 -> 45
    await check_in(editor, child["id"], key_result["id"], "45")
    await activate(editor, child["id"])  # only committed children count

    tree = (await read(editor, TREE, cycle=cycle["id"]))["okrTree"]

    assert tree["cycle"]["id"] == cycle["id"]
    assert tree["asOfPosition"] is None
    [root] = tree["roots"]
    assert root["title"] == "Company"
    assert root["keyResults"] == []
    assert Decimal(root["rolledUpProgress"]) == Decimal(1)
    [team] = root["children"]
    assert (team["title"], Decimal(team["rolledUpProgress"]), team["children"]) == (
        "Team",
        Decimal(1),
        [],
    )


async def test_the_okr_tree_as_of_a_position_shows_the_tree_before_later_changes(
    editor: Api,
) -> None:
    cycle = await start_cycle(editor)
    first = await editor.mutate(
        "setObjective", {"cycleId": cycle["id"], "title": "Before", "owner": "ana"}, OBJECTIVE
    )
    await editor.mutate(
        "reviseObjective", {"objectiveId": first["objective"]["id"], "title": "After"}, OBJECTIVE
    )
    await set_objective(editor, cycle["id"], title="Later")

    then = (await read(editor, TREE, cycle=cycle["id"], asOf={"position": first["position"]}))[
        "okrTree"
    ]
    now = (await read(editor, TREE, cycle=cycle["id"]))["okrTree"]

    assert [r["title"] for r in then["roots"]] == ["Before"]
    assert then["asOfPosition"] == first["position"]
    assert [r["title"] for r in now["roots"]] == ["After", "Later"]


async def test_the_okr_tree_as_of_a_time_shows_the_tree_at_that_moment(editor: Api) -> None:
    cycle = await start_cycle(editor)
    objective = await set_objective(editor, cycle["id"], title="Before")
    await asyncio.sleep(0.05)
    moment = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await editor.mutate(
        "reviseObjective", {"objectiveId": objective["id"], "title": "After"}, OBJECTIVE
    )

    tree = (await read(editor, TREE, cycle=cycle["id"], asOf={"time": moment.isoformat()}))[
        "okrTree"
    ]
    one = await read(
        editor,
        "query($id: UUID!, $asOf: AsOfInput) { objective(id: $id, asOf: $asOf) { title } }",
        id=objective["id"],
        asOf={"time": moment.isoformat()},
    )

    assert [r["title"] for r in tree["roots"]] == ["Before"]
    assert one["objective"]["title"] == "Before"


async def test_the_okr_tree_before_its_cycle_started_is_null(editor: Api) -> None:
    cycle = await start_cycle(editor)

    data = await read(editor, TREE, cycle=cycle["id"], asOf={"time": "2000-01-01T00:00:00Z"})

    assert data["okrTree"] is None


async def test_as_of_with_both_a_time_and_a_position_is_refused(editor: Api) -> None:
    cycle = await start_cycle(editor)

    body = await editor.post(
        TREE, {"cycle": cycle["id"], "asOf": {"position": 1, "time": "2026-01-01T00:00:00Z"}}
    )

    assert body["errors"]
    assert body.get("data") is None


async def test_an_as_of_time_without_a_time_zone_is_refused(editor: Api) -> None:
    cycle = await start_cycle(editor)

    error = await refused(editor, TREE, cycle=cycle["id"], asOf={"time": "2026-11-01T00:00:00"})

    assert error["extensions"] == {"code": "VALIDATION", "field": "asOf"}


async def test_mutations_answer_with_the_same_objective_type_as_reads(editor: Api) -> None:
    objective = await set_objective(editor)

    result = await editor.mutate(
        "reviseObjective",
        {"objectiveId": objective["id"], "title": "Renamed"},
        "... on ObjectivePayload { objective { title rolledUpProgress pace cycle { id } } }",
    )

    assert result["objective"]["title"] == "Renamed"
    assert result["objective"]["rolledUpProgress"] == "0"
    assert result["objective"]["cycle"]["id"] == objective["cycleId"]


async def test_an_objective_knows_its_parent_and_children(editor: Api) -> None:
    parent = await set_objective(editor, title="Company")
    child = await set_objective(editor, parent["cycleId"], title="Team", parentId=parent["id"])

    data = await read(
        editor,
        """query($id: UUID!) { objective(id: $id) {
             parent { title children { title } } } }""",
        id=child["id"],
    )

    assert data["objective"]["parent"] == {"title": "Company", "children": [{"title": "Team"}]}
