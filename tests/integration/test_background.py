"""Background work across tenants: the tenant directory, and the policy catching up."""

from __future__ import annotations

from decimal import Decimal

from okrledger.infra.background import catch_up_all
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.kpi_links import PostgresKPILinks, PostgresReadingLog
from okrledger.infra.projector import InlineProjections
from okrledger.projections import catalog
from okrledger.services.handling import Handler
from okrledger.services.kpi_links import KPILinkPolicy

from .test_kpi_services import a_kpi, a_linked_key_result, current, read


async def test_the_tenant_directory_lists_tenants_but_shows_none_of_their_rows(
    store: PostgresEventStore, database: Database, tenant: str, other_tenant: str
) -> None:
    handler = Handler(store)
    await a_kpi(handler, tenant)
    await a_kpi(handler, other_tenant)

    listed = await database.tenant_ids()

    assert {tenant, other_tenant} <= set(listed)
    async with database.transaction(tenant, readonly=True) as connection:
        visible = await connection.fetch("SELECT tenant_id FROM tenant_heads")
    assert [row["tenant_id"] for row in visible] == [tenant]


async def test_one_pass_catches_every_tenant_up_on_readings_the_policy_missed(
    database: Database, tenant: str, other_tenant: str
) -> None:
    store = PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())])
    handler = Handler(store)
    policy = KPILinkPolicy(handler, PostgresKPILinks(database))
    followers = []
    for who in (tenant, other_tenant):
        kpi_id = await a_kpi(handler, who)
        objective_id, kr_id = await a_linked_key_result(handler, who, kpi_id)
        await read(handler, who, kpi_id, "3.3")  # no policy: the process "died" here
        followers.append((who, objective_id, kr_id))

    await catch_up_all(database, policy, PostgresReadingLog(store, database))

    for who, objective_id, kr_id in followers:
        assert await current(handler, who, objective_id, kr_id) == Decimal("3.3")
