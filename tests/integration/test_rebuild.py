"""Rebuilding projections from the log: equal to what inline maintenance built,
crash-safe, per tenant, and nothing appended during the rebuild is lost."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from eventsourcing.domain import Aggregate, event

from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections, positions
from okrledger.infra.rebuild import rebuild
from okrledger.projections.base import Rows
from okrledger.projections.change_log import ChangeLog, Description, FieldChange
from okrledger.projections.recorded import RecordedEvent
from okrledger.services.ports import CommandContext


class Gauge(Aggregate):
    @event("GaugeMounted")
    def __init__(self, label: str) -> None:
        self.label = label
        self.level = Decimal(0)

    @event("GaugeMoved")
    def move(self, level: Decimal) -> None:
        self.level = level


async def describe_mounted(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    return Description(f"Gauge '{e.label}' mounted")


async def describe_moved(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    return Description(f"Gauge moved to {e.level}", [FieldChange("level", None, str(e.level))])


def change_log() -> ChangeLog:
    return ChangeLog({"GaugeMounted": describe_mounted, "GaugeMoved": describe_moved})


@pytest.fixture
def live_store(database: Database) -> PostgresEventStore:
    return PostgresEventStore(database, hooks=[InlineProjections([change_log()])])


async def write(store: PostgresEventStore, tenant: str, moves: int = 3) -> None:
    gauge = Gauge(label=f"g-{uuid.uuid4().hex[:4]}")
    for level in range(moves):
        gauge.move(Decimal(level))
    await store.append(CommandContext(tenant, "alice", str(uuid.uuid4())), gauge.collect_events())


async def change_log_rows(owner_dsn: str, *tenants: str) -> list[tuple[Any, ...]]:
    connection = await asyncpg.connect(owner_dsn)
    try:
        result: list[tuple[Any, ...]] = []
        for tenant in tenants:
            async with connection.transaction():
                await connection.execute(
                    "SELECT set_config('okrledger.tenant_id', $1, true)", tenant
                )
                rows = await connection.fetch(
                    "SELECT * FROM change_log WHERE tenant_id = $1 ORDER BY position", tenant
                )
            result.extend(tuple(r.values()) for r in rows)
        return result
    finally:
        await connection.close()


async def test_a_rebuilt_projection_equals_the_inline_one_row_for_row(
    live_store: PostgresEventStore, database: Database, owner_dsn: str, tenant: str
) -> None:
    for _ in range(5):
        await write(live_store, tenant)
    inline = await change_log_rows(owner_dsn, tenant)

    report = await rebuild(owner_dsn, [change_log()], tenant_id=tenant)

    assert report.events == 20
    assert await change_log_rows(owner_dsn, tenant) == inline
    assert (await positions(database, tenant))["change_log"] == 20


async def test_a_whole_rebuild_keeps_every_tenant_and_the_tenant_walls(
    live_store: PostgresEventStore,
    database: Database,
    owner_dsn: str,
    tenant: str,
    other_tenant: str,
) -> None:
    await write(live_store, tenant)
    await write(live_store, other_tenant)
    inline = await change_log_rows(owner_dsn, tenant, other_tenant)

    await rebuild(owner_dsn, [change_log()])

    assert await change_log_rows(owner_dsn, tenant, other_tenant) == inline
    async with database.transaction(tenant) as connection:
        visible = await connection.fetch("SELECT DISTINCT tenant_id FROM change_log")
    assert [r["tenant_id"] for r in visible] == [tenant]
    await write(live_store, tenant)  # the app role can still write to the swapped-in table
    assert len(await change_log_rows(owner_dsn, tenant)) == 8


async def test_a_crash_mid_rebuild_leaves_the_live_tables_untouched_and_can_be_rerun(
    live_store: PostgresEventStore, owner_dsn: str, tenant: str
) -> None:
    for _ in range(3):
        await write(live_store, tenant)
    inline = await change_log_rows(owner_dsn, tenant)

    with pytest.raises(RuntimeError, match="on purpose"):
        await rebuild(owner_dsn, [change_log()], tenant_id=tenant, fail_after=1)
    assert await change_log_rows(owner_dsn, tenant) == inline

    await rebuild(owner_dsn, [change_log()], tenant_id=tenant)
    assert await change_log_rows(owner_dsn, tenant) == inline


async def test_events_appended_during_a_rebuild_are_in_the_rebuilt_tables(
    live_store: PostgresEventStore, owner_dsn: str, tenant: str
) -> None:
    for _ in range(50):
        await write(live_store, tenant, moves=10)
    progress: list[int] = []

    async def keep_writing() -> None:
        for _ in range(20):
            await write(live_store, tenant, moves=1)

    writer = asyncio.create_task(keep_writing())
    await rebuild(
        owner_dsn, [change_log()], tenant_id=tenant, progress=lambda n, _: progress.append(n)
    )
    await writer

    rows = await change_log_rows(owner_dsn, tenant)
    assert [r[1] for r in rows] == list(range(1, 550 + 40 + 1))
    assert progress and progress[-1] >= 550
