"""The asyncpg event store on a real PostgreSQL: atomic appends, optimistic
concurrency, idempotency, per-tenant positions and immutability."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from eventsourcing.domain import Aggregate, event

from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services.errors import AlreadyClaimed, VersionConflict
from okrledger.services.ports import Claim, CommandContext


class Tally(Aggregate):
    """A minimal aggregate, so these tests exercise the store and nothing else."""

    @event("TallyOpened")
    def __init__(self, name: str) -> None:
        self.name = name
        self.total = Decimal(0)

    @event("TallyAdded")
    def add(self, amount: Decimal) -> None:
        self.total += amount


def context(tenant: str, **overrides: str) -> CommandContext:
    values: dict[str, Any] = {"actor": "alice", "command_id": str(uuid.uuid4())} | overrides
    return CommandContext(tenant_id=tenant, **values)


async def test_appended_events_load_back_into_an_equal_aggregate(
    store: PostgresEventStore, tenant: str
) -> None:
    tally = Tally(name="backlinks")
    tally.add(Decimal("1.5"))
    outcome = await store.append(context(tenant), tally.collect_events())

    loaded = await store.load(tenant, tally.id)

    assert isinstance(loaded, Tally)
    assert (loaded.id, loaded.version, loaded.total) == (tally.id, 2, Decimal("1.5"))
    assert (outcome.version, outcome.position, outcome.duplicate) == (2, 2, False)


async def test_metadata_is_stored_on_every_event(store: PostgresEventStore, tenant: str) -> None:
    tally = Tally(name="nps")
    tally.add(Decimal(3))
    ctx = context(tenant, actor="bob", correlation_id="corr-1", reason="quarterly reset")
    await store.append(ctx, tally.collect_events())

    recorded = await store.read_stream(tenant, tally.id)

    assert [r.event_type for r in recorded] == ["TallyOpened", "TallyAdded"]
    assert {(r.actor, r.command_id, r.correlation_id, r.reason) for r in recorded} == {
        ("bob", ctx.command_id, "corr-1", "quarterly reset")
    }
    assert all(r.stream_type == "Tally" for r in recorded)
    assert all(r.recorded_at.tzinfo is not None for r in recorded)


async def test_fifty_concurrent_appends_at_the_same_version_let_exactly_one_win(
    store: PostgresEventStore, tenant: str
) -> None:
    tally = Tally(name="race")
    await store.append(context(tenant), tally.collect_events())

    # Load all copies first so that every writer really holds version 1.
    copies = []
    for _ in range(50):
        copy = await store.load(tenant, tally.id)
        assert isinstance(copy, Tally)
        copy.add(Decimal(1))
        copies.append(copy)

    async def append(copy: Tally) -> str:
        try:
            await store.append(context(tenant), copy.collect_events())
        except VersionConflict:
            return "conflict"
        return "ok"

    results = await asyncio.gather(*(append(c) for c in copies))

    assert results.count("ok") == 1
    assert results.count("conflict") == 49
    final = await store.load(tenant, tally.id)
    assert isinstance(final, Tally)
    assert (final.version, final.total) == (2, Decimal(1))
    assert await store.head(tenant) == 2


async def test_a_conflicting_append_writes_nothing(store: PostgresEventStore, tenant: str) -> None:
    tally = Tally(name="x")
    await store.append(context(tenant), tally.collect_events())
    first = await store.load(tenant, tally.id)
    second = await store.load(tenant, tally.id)
    assert isinstance(first, Tally) and isinstance(second, Tally)
    first.add(Decimal(1))
    second.add(Decimal(2))
    second.add(Decimal(3))
    await store.append(context(tenant), first.collect_events())

    with pytest.raises(VersionConflict):
        await store.append(context(tenant), second.collect_events())

    assert [r.version for r in await store.read_stream(tenant, tally.id)] == [1, 2]
    assert await store.head(tenant) == 2


async def test_a_repeated_command_id_returns_the_first_outcome_and_appends_nothing(
    store: PostgresEventStore, tenant: str
) -> None:
    tally = Tally(name="retry")
    ctx = context(tenant)
    events = tally.collect_events()
    first = await store.append(ctx, events)

    again = await store.append(ctx, events)

    assert (again.stream_id, again.version, again.position) == (
        first.stream_id,
        first.version,
        first.position,
    )
    assert again.duplicate
    assert len(await store.read_log(tenant)) == 1


async def test_concurrent_retries_of_one_command_append_once(
    store: PostgresEventStore, tenant: str
) -> None:
    tally = Tally(name="retry")
    ctx = context(tenant)
    events = tally.collect_events()

    outcomes = await asyncio.gather(*(store.append(ctx, events) for _ in range(10)))

    assert len({(o.version, o.position) for o in outcomes}) == 1
    assert sum(not o.duplicate for o in outcomes) == 1
    assert len(await store.read_log(tenant)) == 1


async def test_positions_are_gap_free_per_tenant_under_concurrent_writers(
    store: PostgresEventStore,
) -> None:
    shared = f"s-{uuid.uuid4().hex[:10]}"
    tenants = [f"p-{uuid.uuid4().hex[:10]}" for _ in range(20)]

    async def writer(tenant_id: str, appends: int) -> None:
        for _ in range(appends):
            tally = Tally(name="w")
            tally.add(Decimal(1))
            await store.append(context(tenant_id), tally.collect_events())

    await asyncio.gather(*(writer(t, 5) for t in tenants), *(writer(shared, 5) for _ in range(20)))

    for tenant_id, expected in [*((t, 10) for t in tenants), (shared, 200)]:
        log = await store.read_log(tenant_id, limit=10_000)
        assert [e.position for e in log] == list(range(1, expected + 1))
        assert await store.head(tenant_id) == expected


async def test_a_reader_tailing_the_log_sees_every_event_once_in_order(
    store: PostgresEventStore, tenant: str
) -> None:
    writers, appends = 20, 10
    done = asyncio.Event()
    seen: list[int] = []

    async def tail() -> None:
        position = 0
        while True:
            finished = done.is_set()
            page = await store.read_log(tenant, after_position=position, limit=50)
            seen.extend(e.position for e in page)
            if page:
                position = page[-1].position
            elif finished:
                return
            else:
                await asyncio.sleep(0.005)

    async def writer() -> None:
        for _ in range(appends):
            tally = Tally(name="t")
            await store.append(context(tenant), tally.collect_events())

    reader = asyncio.create_task(tail())
    await asyncio.gather(*(writer() for _ in range(writers)))
    done.set()
    await reader

    assert seen == list(range(1, writers * appends + 1))


async def test_a_stream_reads_up_to_a_version_or_a_time(
    store: PostgresEventStore, tenant: str
) -> None:
    tally = Tally(name="history")
    await store.append(context(tenant), tally.collect_events())
    for amount in (1, 2, 3):
        tally.add(Decimal(amount))
        await store.append(context(tenant), tally.collect_events())
    recorded = await store.read_stream(tenant, tally.id)
    cut = recorded[2].recorded_at

    at_version_2 = await store.load(tenant, tally.id, until_version=2)
    at_time = await store.load(tenant, tally.id, until_time=cut)
    before_anything = await store.load(
        tenant, tally.id, until_time=datetime(2000, 1, 1, tzinfo=UTC)
    )

    assert isinstance(at_version_2, Tally) and at_version_2.total == Decimal(1)
    assert isinstance(at_time, Tally) and at_time.total == Decimal(3)
    assert before_anything is None
    assert [r.version for r in await store.read_stream(tenant, tally.id, until_version=3)] == [
        1,
        2,
        3,
    ]


async def test_loading_from_a_snapshot_gives_the_same_aggregate(
    store: PostgresEventStore, tenant: str
) -> None:
    tally = Tally(name="snap")
    for amount in range(10):
        tally.add(Decimal(amount))
    await store.append(context(tenant), tally.collect_events(), snapshot=Tally.Snapshot.take(tally))
    tally.add(Decimal(100))
    await store.append(context(tenant), tally.collect_events())

    loaded = await store.load(tenant, tally.id)

    assert isinstance(loaded, Tally)
    assert (loaded.version, loaded.total) == (12, Decimal(145))


async def test_a_claimed_key_cannot_be_claimed_again(
    store: PostgresEventStore, tenant: str
) -> None:
    first, second = Tally(name="a"), Tally(name="b")
    await store.append(
        context(tenant), first.collect_events(), claims=[Claim("cycle", "2026-Q4", {"n": 1})]
    )

    with pytest.raises(AlreadyClaimed):
        await store.append(
            context(tenant), second.collect_events(), claims=[Claim("cycle", "2026-Q4")]
        )

    assert await store.load(tenant, second.id) is None
    claimed = await store.claimed(tenant, "cycle", ["2026-Q4", "2027-Q1"])
    assert list(claimed) == ["2026-Q4"]
    assert claimed["2026-Q4"].stream_id == first.id
    assert claimed["2026-Q4"].data == {"n": 1}


async def test_the_application_role_cannot_update_or_delete_events(
    store: PostgresEventStore, database: Database, tenant: str
) -> None:
    tally = Tally(name="immutable")
    await store.append(context(tenant), tally.collect_events())

    async with database.transaction(tenant) as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("UPDATE events SET actor = 'mallory'")
    async with database.transaction(tenant) as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("DELETE FROM events")

    assert [r.actor for r in await store.read_stream(tenant, tally.id)] == ["alice"]
