"""Replaying one tenant's read models up to a position, beside the live ones."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg
import pytest

from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections
from okrledger.infra.rebuild import RebuildRefused, drop_schema, replay_until
from okrledger.projections import catalog
from okrledger.services import cycles
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext


async def count(owner_dsn: str, tenant: str, table: str) -> int:
    connection = await asyncpg.connect(owner_dsn)
    try:
        return int(
            await connection.fetchval(f"SELECT count(*) FROM {table} WHERE tenant_id = $1", tenant)
        )
    finally:
        await connection.close()


async def test_a_replay_stops_at_the_position_and_leaves_the_live_tables_alone(
    database: Database, owner_dsn: str, tenant: str
) -> None:
    handler = Handler(
        PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())])
    )
    for quarter in range(1, 4):
        cmd = cycles.StartCycle(f"Q{quarter}", date(2026, quarter, 1), date(2026, quarter, 28))
        await cycles.start_cycle(cmd, CommandContext(tenant, "alice", str(uuid.uuid4())), handler)
    schema = f"replay_{uuid.uuid4().hex[:8]}"

    try:
        applied = await replay_until(
            owner_dsn, catalog.projections(), schema, tenant_id=tenant, until_position=2
        )
        replayed = await count(owner_dsn, tenant, f"{schema}.okr_cycles")
    finally:
        await drop_schema(owner_dsn, schema)

    assert (applied, replayed) == (2, 2)
    assert await count(owner_dsn, tenant, "public.okr_cycles") == 3


@pytest.mark.parametrize("schema", ["public", "Bad-Name", "x; drop table events"])
async def test_a_replay_refuses_the_live_schema_and_odd_names(
    owner_dsn: str, tenant: str, schema: str
) -> None:
    with pytest.raises(RebuildRefused):
        await replay_until(
            owner_dsn, catalog.projections(), schema, tenant_id=tenant, until_position=1
        )
