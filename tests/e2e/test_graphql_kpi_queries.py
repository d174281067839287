"""Reading KPIs over the API: one by id (now and as of), filtered pages, roles and tenants."""

from __future__ import annotations

import pytest

from okrledger.services.identity import Role
from tests.e2e.kpi_steps import KPI, define_kpi, kpi_input, observed, record_reading
from tests.e2e.read_steps import nodes, read, refused
from tests.e2e.server import Api, ApiClient, as_caller

ONE = """query($id: UUID!, $asOf: AsOfInput) {
  kpi(id: $id, asOf: $asOf) {
    id key name area health version readingCount latestReading { value }
  }
}"""

PAGE = """query($area: String, $health: Health, $first: Int!, $after: String) {
  kpis(area: $area, health: $health, first: $first, after: $after) {
    edges { node { name area health } }
    pageInfo { hasNextPage endCursor }
  }
}"""

NESTED = """query($id: UUID!) {
  kpi(id: $id) {
    name
    readings(first: 5) { edges { node { value } } }
    history(from: "2020-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z", bucket: MONTH,
            aggregate: COUNT) { value }
  }
}"""

BANDS = {"green": "10", "yellow": "5"}  # higher is better: >= 10 green, >= 5 yellow


async def test_a_kpi_is_read_with_its_health_and_latest_reading(editor: Api) -> None:
    kpi = await define_kpi(editor, bands=BANDS)
    await record_reading(editor, kpi["id"], "7")

    data = await read(editor, ONE, id=kpi["id"])

    assert data["kpi"] == {
        "id": kpi["id"],
        "key": kpi["key"],
        "name": "Conversion rate",
        "area": "Growth",
        "health": "YELLOW",
        "version": 3,
        "readingCount": 1,
        "latestReading": {"value": "7"},
    }


async def test_a_kpi_as_of_a_past_position_shows_its_definition_then(editor: Api) -> None:
    defined = await editor.mutate("defineKpi", kpi_input(), KPI)
    kpi_id = defined["kpi"]["id"]
    await editor.mutate("reviseKpi", {"kpiId": kpi_id, "name": "Checkout conversion"}, KPI)
    await record_reading(editor, kpi_id, "3")

    then = await read(editor, ONE, id=kpi_id, asOf={"position": defined["position"]})
    now = await read(editor, ONE, id=kpi_id)

    assert then["kpi"]["name"] == "Conversion rate"
    assert then["kpi"]["version"] is None  # a past version cannot be sent as expectedVersion
    assert (then["kpi"]["readingCount"], then["kpi"]["latestReading"]) == (0, None)
    assert now["kpi"]["name"] == "Checkout conversion" and now["kpi"]["version"] == 3


async def test_a_kpi_as_of_before_it_was_defined_is_null(editor: Api) -> None:
    defined = await editor.mutate("defineKpi", kpi_input(), KPI)

    data = await read(
        editor, ONE, id=defined["kpi"]["id"], asOf={"position": defined["position"] - 1}
    )

    assert data["kpi"] is None


async def test_kpis_are_filtered_by_area_and_health(editor: Api) -> None:
    for name, area, value in [("A", "Growth", "12"), ("B", "Growth", "3"), ("C", "Support", "1")]:
        kpi = await define_kpi(editor, name=name, area=area, bands=BANDS)
        await record_reading(editor, kpi["id"], value)

    growth = await read(editor, PAGE, area="Growth", first=10)
    red = await read(editor, PAGE, health="RED", first=10)
    red_growth = await read(editor, PAGE, area="Growth", health="RED", first=10)

    assert [k["name"] for k in nodes(growth["kpis"])] == ["A", "B"]
    assert [k["name"] for k in nodes(red["kpis"])] == ["B", "C"]
    assert nodes(red_growth["kpis"]) == [{"name": "B", "area": "Growth", "health": "RED"}]


async def test_kpis_are_paged_in_the_order_they_were_defined(editor: Api) -> None:
    for name in ["A", "B", "C"]:
        await define_kpi(editor, name=name)

    first = await read(editor, PAGE, first=2)
    info = first["kpis"]["pageInfo"]
    rest = await read(editor, PAGE, first=2, after=info["endCursor"])

    assert [k["name"] for k in nodes(first["kpis"])] == ["A", "B"] and info["hasNextPage"]
    assert [k["name"] for k in nodes(rest["kpis"])] == ["C"]
    assert rest["kpis"]["pageInfo"]["hasNextPage"] is False


async def test_a_page_size_out_of_range_is_a_validation_error(editor: Api) -> None:
    error = await refused(editor, PAGE, first=0)

    assert error["extensions"] == {"code": "VALIDATION", "field": "first"}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.EDITOR, Role.VIEWER, Role.AUDITOR])
async def test_goal_readers_read_a_kpi_its_readings_and_history(
    client: ApiClient, tenant: str, editor: Api, role: Role
) -> None:
    kpi = await define_kpi(editor)
    await record_reading(editor, kpi["id"], "4", observedAt=observed(30))

    data = await read(as_caller(client, tenant, role), NESTED, id=kpi["id"])

    assert data["kpi"]["readings"]["edges"] == [{"node": {"value": "4"}}]
    assert data["kpi"]["history"] == [{"value": "1"}]


async def test_an_integrator_cannot_read_kpis(client: ApiClient, tenant: str, editor: Api) -> None:
    kpi = await define_kpi(editor)
    integrator = as_caller(client, tenant, Role.INTEGRATOR)

    one = await refused(integrator, ONE, id=kpi["id"])
    listed = await refused(integrator, PAGE, first=5)

    assert one["extensions"]["code"] == listed["extensions"]["code"] == "FORBIDDEN"


async def test_an_integrator_recording_a_reading_cannot_read_the_kpis_readings_back(
    client: ApiClient, tenant: str, editor: Api
) -> None:
    kpi = await define_kpi(editor)
    integrator = as_caller(client, tenant, Role.INTEGRATOR)

    body = await integrator.post(
        """mutation($input: RecordKpiReadingInput!) { recordKpiReading(input: $input) {
             ... on KpiPayload { kpi { name readings(first: 5) { edges { node { value } } } } }
           } }""",
        {"input": {"kpiId": kpi["id"], "value": "9", "observedAt": observed()}},
    )

    [error] = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    # Refused at the payload's `kpi`, under the same rule as the `kpi` query.
    assert error["path"] == ["recordKpiReading", "kpi"]
    assert body["data"]["recordKpiReading"] == {"kpi": None}


async def test_an_anonymous_caller_cannot_read_kpis(client: ApiClient) -> None:
    error = await refused(Api(client, {}), PAGE, first=5)

    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_another_tenants_kpi_reads_as_null_and_is_never_listed(
    client: ApiClient, editor: Api, other_tenant: str
) -> None:
    theirs = as_caller(client, other_tenant, Role.EDITOR)
    kpi = await define_kpi(theirs, name="Their secret KPI", bands=BANDS)
    await record_reading(theirs, kpi["id"], "1")

    one = await read(editor, ONE, id=kpi["id"])
    nested = await read(editor, NESTED, id=kpi["id"])
    listed = await read(editor, PAGE, first=50)
    red = await read(editor, PAGE, health="RED", first=50)

    assert one["kpi"] is None and nested["kpi"] is None
    assert nodes(listed["kpis"]) == nodes(red["kpis"]) == []
