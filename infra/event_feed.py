"""Following a tenant's log live: replay from a position, then wake on LISTEN/NOTIFY.

One LISTEN connection per process fans wake-ups out to that process's subscribers; every
subscriber reads the log itself (the source of truth), so a lost notification only delays
delivery until the next one or the poll interval, and never skips or repeats an event.
When PostgreSQL drops that connection (a restart, a failover) it is opened again, and
every subscriber is woken once it is back, for what was appended while nobody listened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

import asyncpg

from okrledger.infra.codec import decode
from okrledger.infra.event_store import PostgresEventStore
from okrledger.projections.event_log import SubscriberTooSlow
from okrledger.projections.public_events import PUBLIC_TYPES, cloud_event

log = logging.getLogger(__name__)

CHANNEL = "okrledger_events"
PAGE = 500
# Reads the log now and then even without a notification (a dropped LISTEN connection).
POLL_SECONDS = 5.0
# Between attempts to open the LISTEN connection again while the database is away.
RECONNECT_SECONDS = 0.5

_PUBLIC_BY_EVENT_TYPE = {cls.__name__: name for cls, name in PUBLIC_TYPES.items()}


class EventFeed:
    def __init__(
        self, store: PostgresEventStore, listen_dsn: str, *, max_lag: int = 10_000
    ) -> None:
        self.store = store
        self.listen_dsn = listen_dsn
        self.max_lag = max_lag
        self._listener: asyncpg.Connection | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._stopped = False
        self._heads: dict[str, int] = {}
        self._wakers: dict[str, set[asyncio.Event]] = defaultdict(set)

    async def start(self) -> None:
        self._stopped = False
        await self._listen()

    async def stop(self) -> None:
        self._stopped = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnecting
            self._reconnecting = None
        if self._listener is not None:
            await self._listener.close()
            self._listener = None

    async def _listen(self) -> None:
        listener = await asyncpg.connect(self.listen_dsn)
        try:
            await listener.add_listener(CHANNEL, self._notified)
        except BaseException:
            await listener.close()
            raise
        listener.add_termination_listener(self._lost)
        self._listener = listener

    def _lost(self, connection: object) -> None:
        if self._stopped or connection is not self._listener:
            return
        self._listener = None
        log.warning("event feed lost its LISTEN connection; reconnecting")
        self._reconnecting = asyncio.get_running_loop().create_task(
            self._reconnect(), name="event-feed-reconnect"
        )

    async def _reconnect(self) -> None:
        while not self._stopped:
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            log.info("event feed listening again")
            for wakers in self._wakers.values():
                for waker in wakers:
                    waker.set()
            return

    def _notified(self, connection: object, pid: int, channel: str, payload: object) -> None:
        tenant_id, _, position = str(payload).rpartition(":")
        self._heads[tenant_id] = max(self._heads.get(tenant_id, 0), int(position))
        for waker in self._wakers.get(tenant_id, ()):
            waker.set()

    async def page(
        self, tenant_id: str, after_position: int, types: Collection[str] | None, limit: int
    ) -> Sequence[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        position = after_position
        while len(found) < limit:
            records = await self.store.read_log(tenant_id, after_position=position, limit=PAGE)
            for record in records:
                if _wanted(record.event_type, types):
                    found.append(cloud_event(record, decode(record)))
                    if len(found) == limit:
                        break
            if len(records) < PAGE:
                break
            position = records[-1].position
        return found

    async def follow(
        self, tenant_id: str, after_position: int, types: Collection[str] | None
    ) -> AsyncIterator[dict[str, Any]]:
        waker = asyncio.Event()
        self._wakers[tenant_id].add(waker)
        position = after_position
        caught_up = False
        try:
            while True:
                waker.clear()
                records = await self.store.read_log(tenant_id, after_position=position, limit=PAGE)
                if caught_up and records:
                    lag = self._heads.get(tenant_id, 0) - position
                    if lag > self.max_lag:
                        raise SubscriberTooSlow(position, lag)
                for record in records:
                    position = record.position
                    if _wanted(record.event_type, types):
                        yield cloud_event(record, decode(record))
                if len(records) == PAGE:
                    continue
                caught_up = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waker.wait(), POLL_SECONDS)
        finally:
            self._wakers[tenant_id].discard(waker)
            if not self._wakers[tenant_id]:
                del self._wakers[tenant_id]


def _wanted(event_type: str, types: Collection[str] | None) -> bool:
    return not types or _PUBLIC_BY_EVENT_TYPE.get(event_type) in types
