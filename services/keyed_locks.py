"""One writer at a time per stream within this process (Handler.update takes it).

Many integrators feed one KPI at once, a team checks in on one objective at
once; without this, every concurrent append to the stream but one would
conflict and retry (a 5,000-reading batch is costly to retry, and under load
retries run out). Across processes the event store's
optimistic concurrency and the handler's retries still decide. An asyncio
lock holds no database connection while it waits, unlike an advisory lock,
so waiters cannot starve the pool the lock holder needs. Lock order, where both are
taken: a tenant-wide topic's turn first, then the stream's writer, then (for the
topic's turn across processes) `EventStore.serialized`; and never a lock while a pooled
connection is held. The topic comes first so that commands queued for it hold no stream,
and the stream's other writers are not held up behind the whole queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from uuid import UUID
from weakref import WeakValueDictionary

_locks: WeakValueDictionary[Hashable, asyncio.Lock] = WeakValueDictionary()


def keyed_lock(key: Hashable) -> asyncio.Lock:
    """This process's lock for `key`, alive while anyone holds or awaits it."""
    lock = _locks.get(key)
    if lock is None:
        lock = _locks[key] = asyncio.Lock()
    return lock


@asynccontextmanager
async def one_writer(tenant_id: str, stream_id: UUID) -> AsyncIterator[None]:
    async with keyed_lock((tenant_id, stream_id)):
        yield


@asynccontextmanager
async def one_at_a_time(tenant_id: str, topic: str) -> AsyncIterator[None]:
    """This process's turn on a tenant-wide topic (alignment): its waiters hold nothing."""
    async with keyed_lock((tenant_id, topic)):
        yield
