"""Row-Level Security as the second wall: the application role sees and writes
only the tenant its transaction names, and nothing when none is named."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from eventsourcing.domain import Aggregate, event

from okrledger.infra.db import Database, InvalidTenant, app_dsn
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services.ports import Claim, CommandContext


class Note(Aggregate):
    @event("NoteWritten")
    def __init__(self, text: str) -> None:
        self.text = text


async def tenant_tables(owner_dsn: str) -> list[str]:
    connection = await asyncpg.connect(owner_dsn)
    try:
        rows = await connection.fetch(
            """SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
               WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
                 AND a.attname = 'tenant_id' AND NOT a.attisdropped ORDER BY 1"""
        )
        return [r["relname"] for r in rows]
    finally:
        await connection.close()


async def seed(store: PostgresEventStore, tenant_id: str) -> Note:
    note = Note(text=f"secret of {tenant_id}")
    await store.append(
        CommandContext(tenant_id, "alice", str(uuid.uuid4())),
        note.collect_events(),
        claims=[Claim("name", tenant_id)],
        snapshot=Note.Snapshot.take(note),
    )
    return note


async def test_every_tenant_table_has_forced_row_level_security(owner_dsn: str) -> None:
    connection = await asyncpg.connect(owner_dsn)
    try:
        tables = await tenant_tables(owner_dsn)
        flags = await connection.fetch(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
            " WHERE relname = ANY($1::text[])",
            tables,
        )
    finally:
        await connection.close()

    assert {"events", "tenant_heads", "commands", "claims", "snapshots"} <= set(tables)
    assert all(f["relrowsecurity"] and f["relforcerowsecurity"] for f in flags), flags


async def test_tenant_id_leads_every_primary_key(owner_dsn: str) -> None:
    connection = await asyncpg.connect(owner_dsn)
    try:
        rows = await connection.fetch(
            """SELECT c.conrelid::regclass::text AS tbl, a.attname AS first_column
               FROM pg_constraint c
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
               WHERE c.contype IN ('p', 'u', 'f') AND c.connamespace = 'public'::regnamespace
                 AND c.conrelid::regclass::text <> 'schema_migrations'"""
        )
    finally:
        await connection.close()

    assert rows
    assert {r["tbl"]: r["first_column"] for r in rows if r["first_column"] != "tenant_id"} == {}


async def test_a_tenant_sees_no_row_of_another_tenant_in_any_table(
    store: PostgresEventStore, database: Database, owner_dsn: str, tenant: str, other_tenant: str
) -> None:
    await seed(store, tenant)
    await seed(store, other_tenant)

    for table in await tenant_tables(owner_dsn):
        async with database.transaction(tenant) as connection:
            owners = await connection.fetch(f"SELECT DISTINCT tenant_id FROM {table}")
        assert {r["tenant_id"] for r in owners} <= {tenant}, table


async def test_a_tenant_cannot_write_rows_for_another_tenant(
    database: Database, tenant: str, other_tenant: str
) -> None:
    async with database.transaction(tenant) as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(
                "INSERT INTO claims (tenant_id, scope, key, stream_id) VALUES ($1, 'x', 'y', $2)",
                other_tenant,
                uuid.uuid4(),
            )


async def test_with_no_tenant_set_the_application_role_sees_nothing(
    store: PostgresEventStore, owner_dsn: str, tenant: str
) -> None:
    await seed(store, tenant)
    raw = await asyncpg.connect(app_dsn(owner_dsn))
    try:
        for table in await tenant_tables(owner_dsn):
            assert await raw.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    finally:
        await raw.close()


async def test_a_connection_back_in_the_pool_carries_no_tenant(
    store: PostgresEventStore, database: Database, tenant: str
) -> None:
    await seed(store, tenant)
    async with database.transaction(tenant) as connection:
        assert await connection.fetchval("SELECT count(*) FROM events") >= 1

    # Every pooled connection, after any number of units of work, has no tenant outside one.
    pooled = [await database.pool.acquire() for _ in range(database.pool.get_max_size())]
    try:
        for proxy in pooled:
            assert await proxy.fetchval("SELECT current_tenant()") is None
            assert await proxy.fetchval("SELECT count(*) FROM events") == 0
    finally:
        for proxy in pooled:
            await database.pool.release(proxy)


async def test_the_application_role_is_not_the_owner_and_cannot_bypass_rls(
    owner_dsn: str,
) -> None:
    raw = await asyncpg.connect(app_dsn(owner_dsn))
    try:
        role = await raw.fetchrow(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await raw.execute("ALTER TABLE events DISABLE ROW LEVEL SECURITY")
    finally:
        await raw.close()
    assert role is not None
    assert (role["rolsuper"], role["rolbypassrls"]) == (False, False)


@pytest.mark.parametrize("bad", ["", "Acme", "a b", "x" * 64, "'; drop table events; --"])
async def test_a_malformed_tenant_id_is_refused_before_any_sql(
    database: Database, bad: str
) -> None:
    with pytest.raises(InvalidTenant):
        async with database.transaction(bad):
            pass
