"""Appends are announced on `okrledger_events` after they commit, folded per tenant."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from eventsourcing.domain import Aggregate, event

from okrledger.infra.announce import CHANNEL
from okrledger.infra.db import app_dsn
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services.ports import CommandContext


class Beacon(Aggregate):
    @event("BeaconLit")
    def __init__(self, name: str) -> None:
        self.name = name


@pytest.fixture
async def heard(owner_dsn: str) -> AsyncIterator[asyncio.Queue[str]]:
    """What a listener in another session hears on the channel."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(app_dsn(owner_dsn))
    await listener.add_listener(CHANNEL, lambda *args: queue.put_nowait(str(args[-1])))
    yield queue
    await listener.close()


async def test_another_session_hears_the_tenant_and_position_after_the_commit(
    store: PostgresEventStore, tenant: str, heard: asyncio.Queue[str]
) -> None:
    appended = await store.append(
        CommandContext(tenant, "ada", uuid.uuid4().hex), Beacon(name="a").collect_events()
    )

    message = await asyncio.wait_for(heard.get(), 5)

    assert message == f"{tenant}:{appended.position}"
    # Sent after commit: what it announces is already there to read.
    assert await store.head(tenant) >= appended.position


async def test_announcements_end_at_each_tenants_newest_position(
    store: PostgresEventStore, tenant: str, other_tenant: str, heard: asyncio.Queue[str]
) -> None:
    await asyncio.gather(
        *(
            store.append(
                CommandContext(t, "ada", uuid.uuid4().hex), Beacon(name=f"{t}{n}").collect_events()
            )
            for n in range(10)
            for t in (tenant, other_tenant)
        )
    )

    newest: dict[str, int] = {}
    while len(newest) < 2 or set(newest.values()) != {10}:
        message = await asyncio.wait_for(heard.get(), 5)
        name, _, position = message.rpartition(":")
        if name in (tenant, other_tenant):
            newest[name] = max(newest.get(name, 0), int(position))

    assert newest == {tenant: 10, other_tenant: 10}
