"""`goalEvents` over a real WebSocket: replay then live, resumable, across server processes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.kpi_steps import define_kpi, kpi_input, observed, record_reading, record_readings
from tests.e2e.server import Api, ApiClient, as_caller, serving
from tests.e2e.ws_steps import acknowledged, events, receive, socket, subscribe, ws_url


def init_for(client: ApiClient, tenant: str, *roles: Role) -> dict[str, str]:
    return client.bearer(tenant, "subscriber", *roles)


@pytest.fixture
async def second_api_url(api_settings: Settings) -> AsyncIterator[str]:
    """Another server process on another port, on the same database and token issuer."""
    async with serving(api_settings) as url:
        yield url


async def test_the_token_in_connection_init_authenticates_the_socket(
    api_url: str, client: ApiClient, editor: Api, tenant: str
) -> None:
    kpi = await define_kpi(editor)

    async with socket(api_url, init_for(client, tenant, Role.VIEWER)) as connection:
        await acknowledged(connection)
        await subscribe(connection)
        [defined] = await events(connection, 1)

    assert defined["type"] == "kpi.defined.v1"
    assert defined["subject"] == kpi["id"]
    assert defined["position"] == 1


async def test_a_bare_token_in_connection_init_is_accepted(
    api_url: str, client: ApiClient, editor: Api, tenant: str
) -> None:
    await define_kpi(editor)
    token = init_for(client, tenant, Role.INTEGRATOR)["Authorization"].removeprefix("Bearer ")

    async with socket(api_url, {"token": token}) as connection:
        await acknowledged(connection)
        await subscribe(connection)
        [defined] = await events(connection, 1)

    assert defined["source"] == f"/tenants/{tenant}"


async def test_a_bad_token_in_connection_init_closes_the_socket_with_4403(api_url: str) -> None:
    async with socket(api_url, {"Authorization": "Bearer not-a-token"}) as connection:
        with pytest.raises(ConnectionClosed) as closed:
            await receive(connection)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_subscribing_without_connection_init_closes_with_4401(api_url: str) -> None:
    async with connect(ws_url(api_url), subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
        await subscribe(connection)
        with pytest.raises(ConnectionClosed) as closed:
            await receive(connection)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_a_socket_authenticated_in_connection_init_may_run_mutations(
    api_url: str, client: ApiClient, tenant: str
) -> None:
    define = {
        "query": "mutation($input: DefineKpiInput!) { defineKpi(input: $input) { __typename } }",
        "variables": {"input": kpi_input()},
    }

    async with socket(api_url, init_for(client, tenant, Role.EDITOR)) as connection:
        await acknowledged(connection)
        await connection.send(json.dumps({"id": "m", "type": "subscribe", "payload": define}))
        answer = await receive(connection)

    assert answer["payload"]["data"]["defineKpi"]["__typename"] == "DefineKpiPayload"


async def test_an_anonymous_subscription_is_unauthenticated(api_url: str) -> None:
    async with socket(api_url) as connection:
        await acknowledged(connection)
        await subscribe(connection)
        answer = await receive(connection)

    assert answer["type"] in ("next", "error")
    errors = answer["payload"]["errors"] if answer["type"] == "next" else answer["payload"]
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_subscription_resumed_while_writes_continue_has_no_gap_or_duplicate(
    api_url: str, client: ApiClient, editor: Api, tenant: str
) -> None:
    kpi = await define_kpi(editor)
    for value in range(9):
        await record_reading(editor, kpi["id"], str(value))  # positions 1..10

    async def keep_writing() -> None:
        for value in range(30):
            await record_reading(editor, kpi["id"], str(value))

    async with socket(api_url, init_for(client, tenant, Role.INTEGRATOR)) as connection:
        await acknowledged(connection)
        writing = asyncio.create_task(keep_writing())
        await subscribe(connection, after=5)
        received = await events(connection, 35)
        await writing

    assert [event["position"] for event in received] == list(range(6, 41))
    assert len({event["id"] for event in received}) == 35


async def test_a_subscription_keeps_only_the_types_asked_for(
    api_url: str, client: ApiClient, editor: Api, tenant: str
) -> None:
    kpi = await define_kpi(editor)

    async with socket(api_url, init_for(client, tenant, Role.VIEWER)) as connection:
        await acknowledged(connection)
        await subscribe(connection, types=["kpi.target.set.v1"])
        await record_reading(editor, kpi["id"], "1")
        await editor.mutate(
            "setKpiTarget", {"kpiId": kpi["id"], "target": "9", "reason": "New plan"}, ""
        )
        [target_set] = await events(connection, 1)

    assert target_set["type"] == "kpi.target.set.v1"
    assert target_set["data"]["target"] == "9"
    assert target_set["position"] == 3


async def test_an_event_written_through_one_server_reaches_a_subscriber_of_another(
    api_url: str, second_api_url: str, client: ApiClient, editor: Api, tenant: str
) -> None:
    kpi = await define_kpi(editor)

    async with socket(second_api_url, init_for(client, tenant, Role.INTEGRATOR)) as connection:
        await acknowledged(connection)
        await subscribe(connection, after=1)
        await asyncio.sleep(0.2)  # the subscriber has replayed and is waiting live
        await record_reading(editor, kpi["id"], "42")
        [recorded] = await events(connection, 1)

    assert recorded["type"] == "kpi.reading.recorded.v1"
    assert recorded["data"]["value"] == "42"
    assert recorded["position"] == 2


async def test_a_subscriber_sees_only_its_own_tenants_events(
    api_url: str, client: ApiClient, editor: Api, tenant: str, other_tenant: str
) -> None:
    theirs = as_caller(client, other_tenant, Role.EDITOR)

    async with socket(api_url, init_for(client, tenant, Role.VIEWER)) as connection:
        await acknowledged(connection)
        await subscribe(connection)
        await define_kpi(theirs)
        mine = await define_kpi(editor)
        [first] = await events(connection, 1)

    assert first["subject"] == mine["id"]


@pytest.fixture
async def impatient_api_url(api_settings: Settings) -> AsyncIterator[str]:
    """A server that ends subscribers more than 50 events behind the log."""
    async with serving(api_settings.model_copy(update={"subscriber_max_lag": 50})) as url:
        yield url


async def test_a_subscriber_too_far_behind_is_ended_with_where_to_resume(
    impatient_api_url: str, client: ApiClient, editor: Api, tenant: str
) -> None:
    kpi = await define_kpi(editor, bands={"green": "4", "yellow": "3"})
    # A batch is one event, and each health change one more: readings that cross the bands
    # one after another put 200 events in the log at once.
    burst = [{"value": "5" if i % 2 else "1", "observedAt": observed(300 - i)} for i in range(199)]
    init = init_for(client, tenant, Role.INTEGRATOR)

    async with socket(impatient_api_url, init) as connection:
        await acknowledged(connection)
        await subscribe(connection)
        [defined] = await events(connection, 1)
        await editor.mutate("recordKpiReadings", {"kpiId": kpi["id"], "readings": burst}, "")
        messages = [await receive(connection)]
        while messages[-1]["type"] == "next" and "errors" not in messages[-1]["payload"]:
            messages.append(await receive(connection))
        ended = messages[-1]
    delivered = [defined] + [m["payload"]["data"]["goalEvents"] for m in messages[:-1]]
    resume = ended["payload"]["errors"][0]["extensions"]["resumeAfterPosition"]
    async with socket(impatient_api_url, init) as connection:
        await acknowledged(connection)
        await subscribe(connection, after=resume)
        rest = await events(connection, 201 - resume)

    assert ended["payload"]["errors"][0]["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW"
    assert "afterPosition" in ended["payload"]["errors"][0]["message"]
    assert resume == delivered[-1]["position"]
    assert [e["position"] for e in delivered + rest] == list(range(1, 202))


WITH_OPTIONAL_DATA = """
subscription($after: Int!, $withData: Boolean!) {
  goalEvents(afterPosition: $after) { id position data @include(if: $withData) }
}
"""


async def test_subscribers_of_one_tenant_each_get_the_event_as_their_own_document_asks(
    api_url: str, client: ApiClient, editor: Api, tenant: str
) -> None:
    init = init_for(client, tenant, Role.VIEWER)
    async with (
        socket(api_url, init) as same_a,
        socket(api_url, init) as same_b,
        socket(api_url, init) as with_data,
        socket(api_url, init) as without_data,
    ):
        for connection in (same_a, same_b, with_data, without_data):
            await acknowledged(connection)
        await subscribe(same_a, after=0)
        await subscribe(same_b, after=0, id="another")
        for connection, wanted in ((with_data, True), (without_data, False)):
            payload = {"query": WITH_OPTIONAL_DATA, "variables": {"after": 0, "withData": wanted}}
            await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        kpi = await define_kpi(editor)
        await record_reading(editor, kpi["id"], "3.5")

        a, b = await events(same_a, 2), await events(same_b, 2)
        full, bare = await events(with_data, 2), await events(without_data, 2)

    assert a == b
    assert [e["position"] for e in a] == [1, 2]
    assert [e["id"] for e in full] == [e["id"] for e in bare] == [e["id"] for e in a]
    assert all("data" in e for e in full) and all("data" not in e for e in bare)
    assert full[0]["data"] == a[0]["data"]


async def test_a_filter_on_single_readings_also_receives_batches_of_readings(
    api_url: str, client: ApiClient, editor: Api, tenant: str
) -> None:
    kpi = await define_kpi(editor)

    async with socket(api_url, init_for(client, tenant, Role.VIEWER)) as connection:
        await acknowledged(connection)
        await subscribe(connection, types=["kpi.reading.recorded.v1"])
        await record_reading(editor, kpi["id"], "3.5")
        batch = [{"value": str(v), "observedAt": observed()} for v in (3, 4, 5)]
        await record_readings(editor, kpi["id"], batch)
        one, many = await events(connection, 2)

    assert one["type"] == "kpi.reading.recorded.v1"
    assert many["type"] == "kpi.readings.recorded.v1"
    assert [r["value"] for r in many["data"]["readings"]] == ["3", "4", "5"]
