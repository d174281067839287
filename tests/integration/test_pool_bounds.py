"""Nobody waits for ever on the pool: bounded waits, a tenant's share, and alignments that
take their turn without pinning a connection, on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest

from okrledger.domain.alignment import AlignmentCycle
from okrledger.infra.db import Database, app_dsn
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services import cycles, objectives
from okrledger.services.errors import Unavailable
from okrledger.services.handling import Handler, Outcome
from okrledger.services.ports import CommandContext


def ctx(tenant: str) -> CommandContext:
    return CommandContext(tenant, "alice", str(uuid.uuid4()))


@pytest.fixture
async def small_pool(owner_dsn: str) -> AsyncIterator[Database]:
    """Four connections, at most two per tenant, and a short wait for one."""
    database = await Database.connect(
        app_dsn(owner_dsn), min_size=1, max_size=4, acquire_timeout=1.0, per_tenant=2
    )
    yield database
    await database.close()


async def objectives_of(handler: Handler, tenant: str, count: int) -> list[uuid.UUID]:
    cmd = cycles.StartCycle("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    cycle_id = (await cycles.start_cycle(cmd, ctx(tenant), handler)).aggregate.id
    ids = []
    for n in range(count):
        set_one = objectives.SetObjective(f"Objective {n}", cycle_id, owner="ana")
        ids.append((await objectives.set_objective(set_one, ctx(tenant), handler)).aggregate.id)
    return ids


async def test_a_connection_that_does_not_come_free_in_time_is_unavailable(
    small_pool: Database, tenant: str
) -> None:
    # Given every connection of the pool held
    held = [await small_pool.pool.acquire() for _ in range(small_pool.pool.get_max_size())]
    try:
        # When another caller asks for one, it is told so after the timeout, not left waiting
        started = time.monotonic()
        with pytest.raises(Unavailable) as refused:
            async with small_pool.transaction(tenant, readonly=True):
                pass
        assert 0.9 <= time.monotonic() - started < 3
        assert refused.value.retry_after > 0
    finally:
        for connection in held:
            await small_pool.pool.release(connection)
    # And once they are back, it is served
    async with small_pool.transaction(tenant, readonly=True) as served:
        assert await served.fetchval("SELECT 1") == 1


async def test_a_tenant_holding_its_share_leaves_connections_to_the_others(
    small_pool: Database, tenant: str, other_tenant: str
) -> None:
    # Given one tenant holding both connections of its share
    async with (
        small_pool.transaction(tenant, readonly=True),
        small_pool.transaction(tenant, readonly=True),
    ):
        # Then another tenant is served at once
        async with asyncio.timeout(0.5), small_pool.transaction(other_tenant, readonly=True):
            pass
        # and the busy tenant's next caller waits for its own share, then is told to retry
        with pytest.raises(Unavailable):
            async with small_pool.transaction(tenant, readonly=True):
                pass


async def test_forty_concurrent_alignments_in_one_tenant_all_finish_on_a_small_pool(
    small_pool: Database, tenant: str, other_tenant: str
) -> None:
    # Given twenty objectives in a tenant served by a pool of four connections
    handler = Handler(PostgresEventStore(small_pool))
    ids = await objectives_of(handler, tenant, 20)

    # When forty alignments arrive at once, half of them opposite to another one
    async def align(child: uuid.UUID, parent: uuid.UUID) -> object:
        cmd = objectives.AlignObjective(child, parent)
        return await objectives.align_objective(cmd, ctx(tenant), handler)

    pairs = [(ids[n], ids[(n + 1) % 20]) for n in range(20)]
    pairs += [(parent, child) for child, parent in pairs]
    async with asyncio.timeout(30):  # before the fix: every connection waited on the lock
        results = await asyncio.gather(*(align(c, p) for c, p in pairs), return_exceptions=True)
        # and another tenant is served meanwhile and afterwards
        async with small_pool.transaction(other_tenant, readonly=True) as connection:
            assert await connection.fetchval("SELECT 1") == 1

    # Then each was aligned or refused as a loop, and no loop formed
    assert all(isinstance(r, Outcome | AlignmentCycle) for r in results), results
    assert any(isinstance(r, Outcome) for r in results)
    parent_of: dict[uuid.UUID, uuid.UUID | None] = {}
    for objective_id in ids:
        objective = await handler.store.load(tenant, objective_id)
        parent_of[objective_id] = getattr(objective, "parent_id", None)
    for start in ids:
        seen: set[uuid.UUID] = set()
        current: uuid.UUID | None = start
        while current is not None:
            assert current not in seen, "alignments formed a loop"
            seen.add(current)
            current = parent_of[current]


async def test_an_alignment_waits_for_another_process_holding_the_turn_without_a_connection(
    small_pool: Database, owner_dsn: str, tenant: str, other_tenant: str
) -> None:
    # Given two objectives, and another process in the middle of an alignment in the tenant
    handler = Handler(PostgresEventStore(small_pool))
    child, parent = await objectives_of(handler, tenant, 2)
    other = await asyncpg.connect(owner_dsn)
    try:
        holding = other.transaction()
        await holding.start()
        key = f"{tenant}:{cycles.ALIGNMENT}"
        await other.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)

        # When an alignment arrives here, it waits
        cmd = objectives.AlignObjective(child, parent)
        aligning = asyncio.create_task(objectives.align_objective(cmd, ctx(tenant), handler))
        await asyncio.sleep(0.3)
        assert not aligning.done()
        # holding no connection while it waits: the whole pool still serves
        async with asyncio.timeout(0.5):
            for _ in range(small_pool.pool.get_max_size()):
                async with small_pool.transaction(other_tenant, readonly=True):
                    pass
        assert small_pool.pool.get_size() - small_pool.pool.get_idle_size() == 0

        # and goes through once the other process is done
        await holding.commit()
        outcome = await asyncio.wait_for(aligning, 5)
    finally:
        await other.close()
    assert outcome.aggregate.parent_id == parent


async def test_an_alignment_whose_turn_does_not_come_in_time_is_unavailable_and_changes_nothing(
    small_pool: Database, owner_dsn: str, tenant: str
) -> None:
    handler = Handler(PostgresEventStore(small_pool))
    child, parent = await objectives_of(handler, tenant, 2)
    other = await asyncpg.connect(owner_dsn)
    try:
        async with other.transaction():
            key = f"{tenant}:{cycles.ALIGNMENT}"
            await other.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
            cmd = objectives.AlignObjective(child, parent)
            with pytest.raises(Unavailable):
                await objectives.align_objective(cmd, ctx(tenant), handler)
    finally:
        await other.close()
    objective = await handler.store.load(tenant, child)
    assert getattr(objective, "parent_id", "missing") is None
