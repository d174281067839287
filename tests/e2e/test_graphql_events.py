"""The integrators' `events` query: the tenant's log as CloudEvents, paged by position."""

from __future__ import annotations

from typing import Any

from okrledger.services.identity import Role
from tests.e2e.kpi_steps import define_kpi, record_reading
from tests.e2e.server import Api, ApiClient, as_caller

EVENTS = (
    "query($after: Int!, $types: [String!], $first: Int!) { events(afterPosition: $after, "
    "types: $types, first: $first) { lastPosition hasMore events { id source type subject time "
    "position streamVersion specversion datacontenttype data } } }"
)


async def page(
    api: Api, after: int = 0, first: int = 100, types: list[str] | None = None
) -> dict[str, Any]:
    body = await api.post(EVENTS, {"after": after, "types": types, "first": first})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["events"]
    return result


async def test_events_are_cloud_events_in_position_order(
    client: ApiClient, editor: Api, tenant: str
) -> None:
    kpi = await define_kpi(editor, bands={"green": "5", "yellow": "3"})
    await record_reading(editor, kpi["id"], "1")

    result = await page(as_caller(client, tenant, Role.INTEGRATOR))

    types = [event["type"] for event in result["events"]]
    assert types == ["kpi.defined.v1", "kpi.reading.recorded.v1", "kpi.health.changed.v1"]
    assert [event["position"] for event in result["events"]] == [1, 2, 3]
    defined = result["events"][0]
    assert defined["source"] == f"/tenants/{tenant}"
    assert defined["subject"] == kpi["id"]
    assert defined["specversion"] == "1.0"
    assert defined["data"]["key"] == kpi["key"]
    assert (
        defined["data"]["bands"] if "bands" in defined["data"] else defined["data"]["green"] == "5"
    )
    assert result["lastPosition"] == 3 and result["hasMore"] is False


async def test_events_page_on_from_the_last_position(
    client: ApiClient, editor: Api, tenant: str
) -> None:
    kpi = await define_kpi(editor)
    for value in ("1", "2", "3", "4"):
        await record_reading(editor, kpi["id"], value)
    auditor = as_caller(client, tenant, Role.AUDITOR)

    first = await page(auditor, first=2)
    second = await page(auditor, after=first["lastPosition"], first=2)
    last = await page(auditor, after=second["lastPosition"], first=2)

    assert [e["position"] for e in first["events"] + second["events"] + last["events"]] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert (first["hasMore"], second["hasMore"], last["hasMore"]) == (True, True, False)


async def test_events_can_be_filtered_by_type(client: ApiClient, editor: Api, tenant: str) -> None:
    kpi = await define_kpi(editor)
    await record_reading(editor, kpi["id"], "1")
    await record_reading(editor, kpi["id"], "2")

    result = await page(
        as_caller(client, tenant, Role.INTEGRATOR), types=["kpi.reading.recorded.v1"]
    )

    assert [e["data"]["value"] for e in result["events"]] == ["1", "2"]
    assert [e["position"] for e in result["events"]] == [2, 3]


async def test_an_unknown_event_type_is_refused_listing_the_valid_ones(
    client: ApiClient, tenant: str
) -> None:
    body = await as_caller(client, tenant, Role.INTEGRATOR).post(
        EVENTS, {"after": 0, "types": ["kpi.nonsense.v9"], "first": 10}
    )

    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "types"}
    message = body["errors"][0]["message"]
    assert "kpi.nonsense.v9" in message
    assert "kpi.reading.recorded.v1" in message and "okr.objective.*" in message


async def test_events_can_be_filtered_by_family(
    client: ApiClient, editor: Api, tenant: str
) -> None:
    kpi = await define_kpi(editor, bands={"green": "5", "yellow": "3"})
    await record_reading(editor, kpi["id"], "1")

    result = await page(as_caller(client, tenant, Role.INTEGRATOR), types=["kpi.reading.*"])

    assert [e["type"] for e in result["events"]] == ["kpi.reading.recorded.v1"]


async def test_event_bodies_show_numbers_in_plain_notation(
    client: ApiClient, editor: Api, tenant: str
) -> None:
    kpi = await define_kpi(editor, bands={"green": "1.20E+6", "yellow": "7E+4"})
    await record_reading(editor, kpi["id"], "0E-28")

    result = await page(as_caller(client, tenant, Role.INTEGRATOR))

    defined, reading = result["events"][0]["data"], result["events"][1]["data"]
    assert (defined["green"], defined["yellow"]) == ("1200000", "70000")
    assert reading["value"] == "0"


async def test_a_page_larger_than_a_thousand_is_refused(client: ApiClient, tenant: str) -> None:
    body = await as_caller(client, tenant, Role.INTEGRATOR).post(
        EVENTS, {"after": 0, "types": None, "first": 1001}
    )

    assert body["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "first"}


async def test_events_show_only_the_callers_tenant(
    client: ApiClient, tenant: str, other_tenant: str
) -> None:
    await define_kpi(as_caller(client, other_tenant, Role.EDITOR))

    result = await page(as_caller(client, tenant, Role.INTEGRATOR))

    assert result["events"] == [] and result["lastPosition"] == 0
