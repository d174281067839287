"""Telling every server process that a tenant's log grew, once the append has committed.

The appending process sends `NOTIFY okrledger_events, '<tenant>:<position>'` on its own
after commit, outside the append's transaction (a NOTIFY inside it would serialise the
commits of all tenants). Announcements made while one is being sent are folded into the
next: one statement for every tenant that moved, at its newest position. Announcing is a
wake-up, never the record: a lost one (the database away, a crash right after commit)
only delays followers until their next poll.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from okrledger.infra.db import Database
from okrledger.services.errors import Unavailable

log = logging.getLogger(__name__)

CHANNEL = "okrledger_events"

# One statement: it NOTIFYs on CHANNEL without waiting for its commit to reach the disk.
_NOTIFY = "SELECT announce_appends($1::text[], $2::bigint[])"


class Announcer:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._pending: dict[str, int] = {}
        self._sending: asyncio.Task[None] | None = None

    def announce(self, tenant_id: str, position: int) -> None:
        """Queue a wake-up for `tenant_id` at `position`; never waits."""
        self._pending[tenant_id] = max(position, self._pending.get(tenant_id, 0))
        if self._sending is None:
            self._sending = asyncio.get_running_loop().create_task(
                self._send(), name="announce appends"
            )

    async def _send(self) -> None:
        try:
            while self._pending:
                moved, self._pending = self._pending, {}
                try:
                    async with self._db.connection() as connection:
                        await connection.execute(_NOTIFY, list(moved), list(moved.values()))
                except (
                    OSError,
                    asyncpg.PostgresError,
                    asyncpg.InterfaceError,
                    Unavailable,
                ) as error:
                    log.debug("appends not announced (followers will poll): %s", error)
        finally:
            self._sending = None
