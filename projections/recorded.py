"""An event as the log holds it: its place in the tenant's log, its metadata and its payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class RecordedEvent:
    tenant_id: str
    stream_id: UUID
    version: int
    position: int
    event_id: UUID
    stream_type: str
    event_type: str
    topic: str
    payload: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    command_id: str
    correlation_id: str | None
    reason: str | None
