"""Following a tenant's log live: replay from a position, then wake on LISTEN/NOTIFY
(sent by the appending process after commit: infra/announce.py).

One LISTEN connection per process wakes that process's tenant tails (infra/tenant_tail.py),
each of which reads its tenant's new events once for all of the tenant's live subscribers.
A subscriber behind the tail reads the log itself. The log is the source of truth either
way, so a lost notification only delays delivery until the next one or the poll interval,
and never skips or repeats an event. When PostgreSQL drops the LISTEN connection (a
restart, a failover) it is opened again, and every tail is woken once it is back, for
what was appended while nobody listened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

import asyncpg

from okrledger.infra.announce import CHANNEL
from okrledger.infra.codec import decode
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.tenant_tail import TenantTail
from okrledger.projections.event_log import SubscriberTooSlow
from okrledger.projections.public_events import PUBLIC_TYPES, cloud_event, filter_names

log = logging.getLogger(__name__)

PAGE = 500
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
        self._tails: dict[str, TenantTail] = {}

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
        for tail in list(self._tails.values()):
            await tail.stop()
        self._tails.clear()
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
            for tail in self._tails.values():
                tail.wake()
            return

    def _notified(self, connection: object, pid: int, channel: str, payload: object) -> None:
        tenant_id, _, position = str(payload).rpartition(":")
        self._heads[tenant_id] = max(self._heads.get(tenant_id, 0), int(position))
        tail = self._tails.get(tenant_id)
        if tail is not None:
            tail.wake()

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
        tail = self._join(tenant_id)
        position = after_position
        caught_up = False
        try:
            while True:
                if tail.covers(position):
                    events = tail.after(position)
                    if not events:
                        caught_up = True
                        await tail.grown()
                        continue
                    if caught_up:
                        self._check_lag(tail, position)
                    for event in events:
                        position = event.position
                        if _wanted(event.event_type, types):
                            yield event.cloud_event
                    continue
                records = await self.store.read_log(tenant_id, after_position=position, limit=PAGE)
                if caught_up and records:
                    self._check_lag(tail, position)
                for record in records:
                    position = record.position
                    if _wanted(record.event_type, types):
                        yield cloud_event(record, decode(record))
                if len(records) < PAGE:
                    caught_up = True
                    if not tail.covers(position):
                        # Ahead of the tail's first read: it starts at the head it finds.
                        await tail.grown()
        finally:
            await self._leave(tail)

    def _check_lag(self, tail: TenantTail, position: int) -> None:
        lag = max(self._heads.get(tail.tenant_id, 0), tail.reached) - position
        if lag > self.max_lag:
            raise SubscriberTooSlow(position, lag)

    def _join(self, tenant_id: str) -> TenantTail:
        tail = self._tails.get(tenant_id)
        if tail is None:
            tail = self._tails[tenant_id] = TenantTail(self.store, tenant_id)
            tail.start()
        tail.followers += 1
        return tail

    async def _leave(self, tail: TenantTail) -> None:
        tail.followers -= 1
        if tail.followers == 0 and self._tails.get(tail.tenant_id) is tail:
            del self._tails[tail.tenant_id]
            await tail.stop()


def _wanted(event_type: str, types: Collection[str] | None) -> bool:
    if not types:
        return True
    public = _PUBLIC_BY_EVENT_TYPE.get(event_type)
    return public is not None and any(name in types for name in filter_names(public))
