"""Work the server does on its own, for every tenant: catching the KPI link policy up.

The live path applies a reading to the key results that follow its KPI right after the
reading is appended; if the process died in between, this loop applies it later (the
policy is idempotent, and only this loop advances the policy's stored position).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from okrledger.infra.db import Database
from okrledger.services.kpi_links import KPILinkPolicy, catch_up_kpi_links
from okrledger.services.ports import ReadingLog

log = logging.getLogger(__name__)


async def catch_up_all(database: Database, policy: KPILinkPolicy, readings: ReadingLog) -> int:
    """One pass over every tenant; returns how many readings were looked at."""
    seen = 0
    for tenant_id in await database.tenant_ids():
        seen += await catch_up_kpi_links(tenant_id, policy, readings)
    return seen


class PolicyLoop:
    def __init__(
        self,
        database: Database,
        policy: KPILinkPolicy,
        readings: ReadingLog,
        every_seconds: float = 30.0,
    ) -> None:
        self.database = database
        self.policy = policy
        self.readings = readings
        self.every_seconds = every_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kpi-link-catch-up")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                seen = await catch_up_all(self.database, self.policy, self.readings)
                if seen:
                    log.info("kpi link policy caught up", extra={"readings": seen})
            except Exception:  # the loop must outlive a bad pass; the next one retries
                log.exception("kpi link catch-up failed")
            await asyncio.sleep(self.every_seconds)
