"""The newest events of one tenant, read from the log once for all of a process's followers.

Without it every live subscriber re-reads the log (and decodes every event) on every
wake-up, so a write costs as many reads as there are subscribers. The tail reads each new
event once, keeps the latest `keep` of them as CloudEvents, and wakes its followers; a
follower that is further behind than the tail reaches reads the log itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from okrledger.infra.codec import decode
from okrledger.infra.event_store import PostgresEventStore
from okrledger.projections.public_events import cloud_event

log = logging.getLogger(__name__)

PAGE = 500
# Reads the log now and then even without a notification (a dropped LISTEN connection).
POLL_SECONDS = 5.0
# A read that failed (the database is away) is tried again after this long.
RETRY_SECONDS = 0.5


@dataclass(frozen=True)
class TailEvent:
    position: int
    event_type: str
    cloud_event: dict[str, Any]


class TenantTail:
    def __init__(self, store: PostgresEventStore, tenant_id: str, *, keep: int = 1000) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self._events: deque[TailEvent] = deque(maxlen=keep)
        # The tail holds every event in (floor, reached]; both move forward only.
        self._floor: int | None = None
        self._reached = 0
        self._wake = asyncio.Event()
        self._grown = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.followers = 0

    @property
    def reached(self) -> int:
        return self._reached

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"tail {self.tenant_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    def covers(self, position: int) -> bool:
        """Whether every event after `position` that the tail has read is still in it."""
        return self._floor is not None and position >= self._floor

    def after(self, position: int) -> list[TailEvent]:
        """The events after `position` (a list: the tail may grow while the caller yields)."""
        newest = self._events[-1].position if self._events else position
        if newest <= position:
            return []
        skip = len(self._events) - (newest - position)
        return list(self._events)[max(skip, 0) :]

    async def grown(self) -> None:
        """Wait until the tail reads further than now (or a poll interval passes)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._grown.wait(), POLL_SECONDS)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._read_new()
            except Exception:  # the followers outlive a failed read; the next one retries
                log.exception("reading the log for live followers failed")
                await asyncio.sleep(RETRY_SECONDS)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def _read_new(self) -> None:
        if self._floor is None:
            self._reached = await self.store.head(self.tenant_id)
            self._floor = self._reached
        while True:
            records = await self.store.read_log(
                self.tenant_id, after_position=self._reached, limit=PAGE
            )
            if not records:
                return
            for record in records:
                if len(self._events) == self._events.maxlen:
                    self._floor = self._events[0].position
                self._events.append(
                    TailEvent(
                        record.position, record.event_type, cloud_event(record, decode(record))
                    )
                )
            self._reached = records[-1].position
            grown, self._grown = self._grown, asyncio.Event()
            grown.set()
            if len(records) < PAGE:
                return
