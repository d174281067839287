"""The goal change history: one entry per event, the auditor's view.

Each bounded context describes its own events (`Describer`): a human-readable
summary ("Target of 'Gain backlinks' changed from 15 to 20") and the
field-level changes. This module only stores and reads those entries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from okrledger.projections.base import Rows
from okrledger.projections.recorded import RecordedEvent


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str | None
    after: str | None
    goalpost_moved: bool = False


@dataclass(frozen=True)
class Provenance:
    """Of a measured value: when it applied, and the integration, run and client that sent it."""

    observed_at: datetime | None = None
    source: str | None = None
    run_id: str | None = None
    client: str | None = None


@dataclass(frozen=True)
class Description:
    summary: str
    changes: list[FieldChange] = field(default_factory=list)
    provenance: Provenance = field(default_factory=Provenance)


# Describes one event; may read the read models as of the position before it.
Describer = Callable[[Rows, RecordedEvent, Any], Awaitable[Description]]


class ChangeLog:
    name = "change_log"

    def __init__(self, describers: Mapping[str, Describer]) -> None:
        self.describers = dict(describers)
        self.handles = frozenset(self.describers)
        self.tables: tuple[str, ...] = ("change_log",)

    async def apply(self, rows: Rows, record: RecordedEvent, event: Any) -> None:
        description = await self.describers[record.event_type](rows, record, event)
        await rows.execute(
            """INSERT INTO change_log (tenant_id, position, stream_id, stream_type, version,
                   event_type, actor, recorded_at, command_id, correlation_id, reason,
                   summary, changes, observed_at, source, run_id, client)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb,
                       $14, $15, $16, $17)
               ON CONFLICT DO NOTHING""",
            record.tenant_id,
            record.position,
            record.stream_id,
            record.stream_type,
            record.version,
            record.event_type,
            record.actor,
            record.recorded_at,
            record.command_id,
            record.correlation_id,
            record.reason,
            description.summary,
            orjson.dumps(
                [
                    {
                        "field": c.field,
                        "from": c.before,
                        "to": c.after,
                        "goalpostMoved": c.goalpost_moved,
                    }
                    for c in description.changes
                ]
            ).decode(),
            description.provenance.observed_at,
            description.provenance.source,
            description.provenance.run_id,
            description.provenance.client,
        )
