"""Following a tenant's log: replay then live, across processes, resumable, bounded."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from okrledger.domain.cycle import Cycle
from okrledger.infra.db import Database, app_dsn
from okrledger.infra.event_feed import EventFeed
from okrledger.infra.event_store import PostgresEventStore
from okrledger.projections.event_log import SubscriberTooSlow
from okrledger.services.ports import CommandContext


async def start_cycle(store: PostgresEventStore, tenant: str, close: bool = False) -> None:
    cycle = Cycle.start(
        id=uuid.uuid4(),
        name=uuid.uuid4().hex,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 3, 31),
    )
    if close:
        cycle.close()
    await store.append(CommandContext(tenant, "dora", uuid.uuid4().hex), cycle.collect_events())


@pytest.fixture
async def feed(store: PostgresEventStore, owner_dsn: str) -> AsyncIterator[EventFeed]:
    feed = EventFeed(store, app_dsn(owner_dsn))
    await feed.start()
    yield feed
    await feed.stop()


async def take(stream: AsyncIterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    taken = []
    async for event in stream:
        taken.append(event)
        if len(taken) == count:
            break
    return taken


async def test_a_follower_gets_the_backlog_then_live_events_with_no_gap_or_duplicate(
    store: PostgresEventStore, feed: EventFeed, tenant: str
) -> None:
    for _ in range(30):
        await start_cycle(store, tenant)

    async def keep_writing() -> None:
        for _ in range(40):
            await start_cycle(store, tenant)
            await asyncio.sleep(0.005)

    writer = asyncio.create_task(keep_writing())
    events = await asyncio.wait_for(take(feed.follow(tenant, 0, None), 70), 20)
    await writer

    assert [e["position"] for e in events] == list(range(1, 71))
    assert {e["type"] for e in events} == {"okr.cycle.started.v1"}


async def test_an_event_written_through_one_process_wakes_a_follower_in_another(
    owner_dsn: str, feed: EventFeed, tenant: str
) -> None:
    # A second pool and store stand for a second server process.
    other = await Database.connect(app_dsn(owner_dsn), min_size=1, max_size=2)
    try:
        other_store = PostgresEventStore(other)
        follower = asyncio.create_task(take(feed.follow(tenant, 0, None), 1))
        await asyncio.sleep(0.3)  # the follower is now waiting for a wake-up

        await start_cycle(other_store, tenant)
        # Well within the poll interval: the NOTIFY woke it.
        events = await asyncio.wait_for(follower, 2)
    finally:
        await other.close()

    assert events[0]["position"] == 1


async def test_a_follower_resumes_after_its_last_position(
    store: PostgresEventStore, feed: EventFeed, tenant: str
) -> None:
    for _ in range(10):
        await start_cycle(store, tenant)
    first = await take(feed.follow(tenant, 0, None), 4)

    rest = await asyncio.wait_for(take(feed.follow(tenant, first[-1]["position"], None), 6), 5)

    assert [e["position"] for e in first + rest] == list(range(1, 11))


async def test_a_follower_sees_only_its_tenant_and_the_types_it_asked_for(
    store: PostgresEventStore, feed: EventFeed, tenant: str, other_tenant: str
) -> None:
    await start_cycle(store, other_tenant, close=True)
    await start_cycle(store, tenant, close=True)
    await start_cycle(store, tenant)

    closed = await asyncio.wait_for(take(feed.follow(tenant, 0, {"okr.cycle.closed.v1"}), 1), 5)
    page = await feed.page(tenant, 0, None, 10)

    assert [(e["type"], e["source"]) for e in closed] == [
        ("okr.cycle.closed.v1", f"/tenants/{tenant}")
    ]
    assert [e["position"] for e in page] == [1, 2, 3]
    assert {e["source"] for e in page} == {f"/tenants/{tenant}"}


async def test_a_follower_that_falls_too_far_behind_is_told_where_to_resume(
    store: PostgresEventStore, owner_dsn: str, tenant: str
) -> None:
    feed = EventFeed(store, app_dsn(owner_dsn), max_lag=5)
    await feed.start()
    try:
        await start_cycle(store, tenant)
        stream = feed.follow(tenant, 0, None)
        first = await anext(stream)
        waiting = asyncio.create_task(take(stream, 1))
        await asyncio.sleep(0.3)  # caught up: now following live
        await start_cycle(store, tenant)
        [second] = await asyncio.wait_for(waiting, 5)
        for _ in range(20):  # while the subscriber does not read
            await start_cycle(store, tenant)
        await asyncio.sleep(0.3)  # let the notifications arrive
        with pytest.raises(SubscriberTooSlow) as refused:
            await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]
    finally:
        await feed.stop()

    assert (first["position"], second["position"]) == (1, 2)
    assert refused.value.position == 2
    assert "resubscribe with afterPosition 2" in str(refused.value)


class CountingStore(PostgresEventStore):
    """The real store, counting how often the log is read."""

    reads = 0

    async def read_log(self, tenant_id: str, *, after_position: int = 0, limit: int = 1000) -> Any:
        self.reads += 1
        return await super().read_log(tenant_id, after_position=after_position, limit=limit)


async def test_live_followers_of_one_tenant_share_one_read_of_each_new_event(
    database: Database, owner_dsn: str, tenant: str
) -> None:
    store = CountingStore(database)
    feed = EventFeed(store, app_dsn(owner_dsn))
    await feed.start()
    try:
        await start_cycle(store, tenant)
        followers = [asyncio.create_task(take(feed.follow(tenant, 0, None), 11)) for _ in range(50)]
        await asyncio.sleep(0.5)  # every follower has replayed position 1 and is live
        reads_when_live = store.reads

        for _ in range(10):
            await start_cycle(store, tenant)
            await asyncio.sleep(0.02)
        delivered = await asyncio.wait_for(asyncio.gather(*followers), 10)
        live_reads = store.reads - reads_when_live
    finally:
        await feed.stop()

    assert all([e["position"] for e in events] == list(range(1, 12)) for events in delivered)
    # One tail reads each wake-up for all 50; reading per follower would be 500 or more.
    assert live_reads <= 20
