"""The goal change history: one entry per event, the auditor's view.

Each bounded context describes its own events (`Describer`): a human-readable
summary ("Target of 'Gain backlinks' changed from 15 to 20") and the
field-level changes. This module only stores and reads those entries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from okrledger.projections.base import ApplyRun, FreshRows, Item, Rows, apply_in_runs
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
# Describes a run of consecutive events (as its describers would, one by one), reading once.
RunDescriber = Callable[[Rows, Sequence[Item]], Awaitable[list[Description]]]

_INSERT = """
INSERT INTO change_log (tenant_id, position, stream_id, stream_type, version, event_type,
                        actor, recorded_at, command_id, correlation_id, reason, summary, changes,
                        observed_at, source, run_id, client)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16, $17)
ON CONFLICT DO NOTHING
"""

_COLUMNS = (
    "tenant_id",
    "position",
    "stream_id",
    "stream_type",
    "version",
    "event_type",
    "actor",
    "recorded_at",
    "command_id",
    "correlation_id",
    "reason",
    "summary",
    "changes",
    "observed_at",
    "source",
    "run_id",
    "client",
)

_INSERT_MANY = """
INSERT INTO change_log (tenant_id, position, stream_id, stream_type, version, event_type,
                        actor, recorded_at, command_id, correlation_id, reason, summary, changes,
                        observed_at, source, run_id, client)
SELECT e.tenant_id, e.position, e.stream_id, e.stream_type, e.version, e.event_type, e.actor,
       e.recorded_at, e.command_id, e.correlation_id, e.reason, e.summary, e.changes::jsonb,
       e.observed_at, e.source, e.run_id, e.client
FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[],
            $8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
            $14::timestamptz[], $15::text[], $16::text[], $17::text[])
     AS e(tenant_id, position, stream_id, stream_type, version, event_type, actor, recorded_at,
          command_id, correlation_id, reason, summary, changes, observed_at, source, run_id,
          client)
ON CONFLICT DO NOTHING
"""


class ChangeLog:
    name = "change_log"

    def __init__(
        self,
        describers: Mapping[str, Describer],
        run_describers: Mapping[str, RunDescriber] | None = None,
    ) -> None:
        self.describers = dict(describers)
        self.handles = frozenset(self.describers)
        self.tables: tuple[str, ...] = ("change_log",)
        # History by actor, type and time for readers; describers read by stream at most.
        self.query_indexes: tuple[str, ...] = (
            "change_log_actor",
            "change_log_type",
            "change_log_time",
        )
        runs: dict[RunDescriber, ApplyRun] = {}
        for describe in (run_describers or {}).values():
            runs.setdefault(describe, _entries_of(describe))
        self._runs = {t: runs[d] for t, d in (run_describers or {}).items() if t in self.handles}

    async def apply(self, rows: Rows, record: RecordedEvent, event: Any) -> None:
        description = await self.describers[record.event_type](rows, record, event)
        await rows.execute(_INSERT, *_entry(record, description))

    async def apply_many(self, rows: Rows, items: Sequence[Item]) -> None:
        await apply_in_runs(rows, items, self.apply, self._runs)


def _entries_of(describe: RunDescriber) -> ApplyRun:
    async def apply(rows: Rows, items: Sequence[Item]) -> None:
        descriptions = await describe(rows, items)
        entries = [
            _entry(record, description)
            for (record, _), description in zip(items, descriptions, strict=True)
        ]
        if isinstance(rows, FreshRows):
            await rows.copy_rows("change_log", _COLUMNS, entries)
        else:
            await rows.execute(
                _INSERT_MANY, *(list(column) for column in zip(*entries, strict=True))
            )

    return apply


def _entry(record: RecordedEvent, description: Description) -> tuple[Any, ...]:
    return (
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
