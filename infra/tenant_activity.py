"""Each tenant's event count, head position and last activity, for operators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class TenantActivity:
    tenant_id: str
    events: int
    head_position: int
    last_activity: datetime | None  # recorded time of the newest event; None before any

    def as_json(self) -> dict[str, object]:
        return {
            "tenant": self.tenant_id,
            "events": self.events,
            "headPosition": self.head_position,
            "lastActivity": self.last_activity.isoformat() if self.last_activity else None,
        }


async def tenant_activity(dsn: str) -> list[TenantActivity]:
    """Every tenant, by id, through `tenant_activity()` (migration 0021): counts only."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT tenant_id, events, head_position, last_recorded_at FROM tenant_activity()"
        )
    finally:
        await connection.close()
    return [
        TenantActivity(
            row["tenant_id"], row["events"], row["head_position"], row["last_recorded_at"]
        )
        for row in rows
    ]
