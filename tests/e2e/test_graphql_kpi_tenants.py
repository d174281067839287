"""Another tenant's KPIs and readings are not found, and stay unchanged, whatever ids are sent."""

from __future__ import annotations

from okrledger.services.identity import Role
from tests.e2e.kpi_steps import KPI, define_kpi, observed, record_reading
from tests.e2e.okr_steps import add_key_result, set_objective
from tests.e2e.server import Api, ApiClient, as_caller


async def test_another_tenants_kpi_is_not_found_and_stays_unchanged(
    client: ApiClient, editor: Api, other_tenant: str
) -> None:
    theirs = as_caller(client, other_tenant, Role.EDITOR)
    kpi = await define_kpi(theirs, name="Their secret KPI")

    revised = await editor.mutate("reviseKpi", {"kpiId": kpi["id"], "name": "Mine"}, KPI)
    retired = await editor.mutate("retireKpi", {"kpiId": kpi["id"]}, KPI)
    unchanged = await theirs.mutate("setKpiTarget", {"kpiId": kpi["id"], "target": "1"}, KPI)

    assert revised["__typename"] == retired["__typename"] == "NotFoundError"
    assert "Their secret KPI" not in revised["message"]
    assert unchanged["kpi"]["name"] == "Their secret KPI"
    assert unchanged["version"] == 2


async def test_readings_cannot_be_recorded_on_another_tenants_kpi(
    client: ApiClient, tenant: str, other_tenant: str
) -> None:
    kpi = await define_kpi(as_caller(client, other_tenant, Role.EDITOR))
    integrator = as_caller(client, tenant, Role.INTEGRATOR)

    one = await integrator.mutate(
        "recordKpiReading", {"kpiId": kpi["id"], "value": "1", "observedAt": observed()}, KPI
    )
    batch = await integrator.mutate(
        "recordKpiReadings",
        {"kpiId": kpi["id"], "readings": [{"value": "1", "observedAt": observed()}]},
        KPI,
    )

    assert one["__typename"] == batch["__typename"] == "NotFoundError"


async def test_another_tenants_reading_cannot_be_corrected(
    client: ApiClient, editor: Api, other_tenant: str
) -> None:
    theirs = as_caller(client, other_tenant, Role.EDITOR)
    kpi = await define_kpi(theirs)
    reading = await record_reading(theirs, kpi["id"], "5")

    result = await editor.mutate(
        "correctKpiReading",
        {"kpiId": kpi["id"], "readingId": reading["readingId"], "value": "6", "reason": "mine"},
        KPI,
    )

    assert result["__typename"] == "NotFoundError"


async def test_a_key_result_cannot_be_linked_to_another_tenants_kpi(
    client: ApiClient, editor: Api, other_tenant: str
) -> None:
    kpi = await define_kpi(as_caller(client, other_tenant, Role.EDITOR))
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])

    result = await editor.mutate(
        "linkKeyResultToKpi",
        {"objectiveId": objective["id"], "keyResultId": key_result["id"], "kpiId": kpi["id"]},
        "",
    )

    assert result["__typename"] == "NotFoundError"
    assert result["field"] == "kpiId"
