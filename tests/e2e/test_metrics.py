"""/metrics over real HTTP: what a request, an append and the database's state move."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from okrledger.infra.db import set_tenant
from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.metrics_steps import run, scrape, value
from tests.e2e.okr_steps import start_cycle
from tests.e2e.server import Api, ApiClient, serving
from tests.e2e.webhook_steps import WEBHOOK, register

START_CYCLE = """mutation StartCycleForMetrics {
    startCycle(input: {name: "Q4 metrics", startsOn: "2026-10-01", endsOn: "2026-12-31"}) {
        __typename } }"""
SERVER_VERSION = "query ServerVersionForMetrics { serverVersion }"
DURATION = "okrledger_graphql_operation_duration_seconds"


@pytest.fixture(scope="module")
async def api_url(api_settings: Settings) -> AsyncIterator[str]:
    """This module's own server, so no other test's requests move its counters; webhooks to
    loopback are allowed (none is delivered: it runs no worker)."""
    settings = api_settings.model_copy(update={"webhook_allowed_networks": "127.0.0.0/8"})
    async with serving(settings) as url:
        yield url


async def test_a_named_mutation_is_timed_under_its_operation_name(
    client: ApiClient, tenant: str
) -> None:
    headers = client.bearer(tenant, "ana", Role.EDITOR)
    before = await scrape(client)

    await run(client, headers, START_CYCLE)

    after = await scrape(client)
    labels = {"operation": "StartCycleForMetrics", "type": "mutation"}
    assert (
        value(after, f"{DURATION}_count", **labels)
        == value(before, f"{DURATION}_count", **labels) + 1
    )
    assert value(after, f"{DURATION}_bucket", le="+Inf", **labels) == value(
        after, f"{DURATION}_count", **labels
    )
    assert value(after, f"{DURATION}_sum", **labels) > value(before, f"{DURATION}_sum", **labels)


async def test_a_mutation_counts_its_events_by_public_type(client: ApiClient, tenant: str) -> None:
    headers = client.bearer(tenant, "ana", Role.EDITOR)
    name = "okrledger_events_appended_total"
    before = await scrape(client)

    await run(client, headers, START_CYCLE)

    after = await scrape(client)
    started = {"event_type": "okr.cycle.started.v1"}
    assert value(after, name, **started) == value(before, name, **started) + 1


async def test_a_named_query_is_timed_under_its_operation_name(
    client: ApiClient, tenant: str
) -> None:
    headers = client.bearer(tenant, "ana", Role.VIEWER)
    labels = {"operation": "ServerVersionForMetrics", "type": "query"}
    before = await scrape(client)

    await run(client, headers, SERVER_VERSION)
    await run(client, headers, SERVER_VERSION)

    after = await scrape(client)
    count = f"{DURATION}_count"
    assert value(after, count, **labels) == value(before, count, **labels) + 2


async def test_an_unnamed_operation_is_timed_as_anonymous(client: ApiClient, tenant: str) -> None:
    headers = client.bearer(tenant, "ana", Role.VIEWER)
    labels = {"operation": "anonymous", "type": "query"}
    before = await scrape(client)

    await run(client, headers, "{ serverVersion }")

    after = await scrape(client)
    count = f"{DURATION}_count"
    assert value(after, count, **labels) == value(before, count, **labels) + 1


async def test_an_operation_answered_with_errors_counts_as_one_with_errors(
    client: ApiClient,
) -> None:
    labels = {"operation": "MeWithoutTokenForMetrics", "type": "query"}
    errors = "okrledger_graphql_operation_errors_total"
    before = await scrape(client)

    response = await client.post(
        "/graphql", json={"query": "query MeWithoutTokenForMetrics { me { subject } }"}
    )

    after = await scrape(client)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert value(after, errors, **labels) == value(before, errors, **labels) + 1


async def test_responses_are_counted_by_endpoint_and_status(client: ApiClient) -> None:
    refused = {"method": "POST", "endpoint": "/graphql", "status": "401"}
    name = "okrledger_http_requests_total"
    before = await scrape(client)

    response = await client.post(
        "/graphql", json={"query": SERVER_VERSION}, headers={"Authorization": "Bearer nonsense"}
    )

    after = await scrape(client)
    assert response.status_code == 401
    assert value(after, name, **refused) == value(before, name, **refused) + 1


async def test_an_unknown_path_counts_as_other_not_as_itself(client: ApiClient) -> None:
    name = "okrledger_http_requests_total"

    await client.get("/no-such-path-for-metrics")

    after = await scrape(client)
    assert value(after, name, method="GET", endpoint="other", status="404") >= 1
    assert not any("no-such-path" in str(labels) for _, labels in after)


async def test_a_projection_behind_the_head_shows_as_lag(
    client: ApiClient, tenant: str, owner_dsn: str
) -> None:
    # Given a tenant whose okr_tree projection stands two events behind its head
    editor = Api(client, client.bearer(tenant, "ana", Role.EDITOR))
    await start_cycle(editor)
    await start_cycle(editor)
    lag = {"projection": "okr_tree"}
    before = await scrape(client)
    connection = await asyncpg.connect(owner_dsn)
    try:
        async with connection.transaction():
            await set_tenant(connection, tenant)
            await connection.execute(
                """UPDATE projection_positions SET position = position - 2
                   WHERE tenant_id = $1 AND projection = 'okr_tree'""",
                tenant,
            )
        # When Prometheus scrapes
        after = await scrape(client)
    finally:
        async with connection.transaction():
            await set_tenant(connection, tenant)
            await connection.execute(
                """UPDATE projection_positions SET position = position + 2
                   WHERE tenant_id = $1 AND projection = 'okr_tree'""",
                tenant,
            )
        await connection.close()

    # Then the lag counts its two events and the one tenant behind
    events, tenants = "okrledger_projection_lag_events", "okrledger_projection_lag_tenants"
    assert value(after, events, **lag) == value(before, events, **lag) + 2
    assert value(after, tenants, **lag) == value(before, tenants, **lag) + 1


async def test_every_projection_reports_its_lag(client: ApiClient) -> None:
    samples = await scrape(client)

    reported = {
        dict(labels)["projection"]
        for name, labels in samples
        if name == "okrledger_projection_lag_events"
    }
    assert {"okr_tree", "kpi_history", "change_log", "webhooks", "kpi_link_policy"} <= reported


async def test_an_undelivered_webhook_event_counts_in_the_backlog(
    client: ApiClient, tenant: str
) -> None:
    admin = Api(client, client.bearer(tenant, "ada", Role.ADMIN))
    registered = await register(admin)
    due = {"state": "due"}
    before = await scrape(client)

    await start_cycle(admin)

    after = await scrape(client)
    removed = await admin.mutate(
        "removeWebhook", {"webhookId": registered["webhook"]["id"]}, WEBHOOK
    )
    assert removed["__typename"] == "RemoveWebhookPayload", removed
    backlog = "okrledger_webhook_backlog"
    assert value(after, backlog, **due) == value(before, backlog, **due) + 1


async def test_the_request_pool_reports_its_size_and_use(
    client: ApiClient, api_settings: Settings
) -> None:
    samples = await scrape(client)

    pool = "okrledger_db_pool_connections"
    assert value(samples, pool, pool="requests", state="max") == api_settings.pool_max_size
    open_ = value(samples, pool, pool="requests", state="open")
    assert open_ >= api_settings.pool_min_size
    assert (
        value(samples, pool, pool="requests", state="idle")
        + value(samples, pool, pool="requests", state="in_use")
        == open_
    )
    assert value(samples, "okrledger_metrics_database_up") == 1


async def test_with_a_scrape_token_metrics_need_it(owner_dsn: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=owner_dsn, pool_min_size=1, data_dir=tmp_path, metrics_token="scrape-me"
    )
    async with serving(settings) as url, httpx.AsyncClient(base_url=url) as http:
        without = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer guess"})
        given = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me"})

    assert without.status_code == 401
    assert wrong.status_code == 401
    assert given.status_code == 200
    assert "okrledger_http_requests_total" in given.text


async def test_metrics_turned_off_are_not_served(owner_dsn: str, tmp_path: Path) -> None:
    settings = Settings(database_url=owner_dsn, pool_min_size=1, data_dir=tmp_path, metrics=False)
    async with serving(settings) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/metrics")

    assert response.status_code == 404
