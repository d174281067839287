"""The goal change history as clients see it: one entry per recorded change."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self
from uuid import UUID

import strawberry

from okrledger.projections.change_log import FieldChange as FieldChangeView
from okrledger.projections.history_queries import ChangeEntry as ChangeEntryView
from okrledger.projections.public_events import PUBLIC_BY_NAME


@strawberry.enum(description="Which end of the history comes first.")
class HistoryOrder(Enum):
    NEWEST_FIRST = "newest first"
    OLDEST_FIRST = "oldest first"


@strawberry.type(description="One field's value before and after a change.")
class FieldChange:
    field: str
    from_: str | None = strawberry.field(name="from", description="Null when it was unset.")
    to: str | None = strawberry.field(description="Null when it was cleared.")
    goalpost_moved: bool = strawberry.field(
        description="A key result's start or target changed after its cycle began, or a "
        "KPI's target or bands after its first reading."
    )

    @classmethod
    def of(cls, view: FieldChangeView) -> Self:
        return cls(
            field=view.field,
            from_=view.before,
            to=view.after,
            goalpost_moved=view.goalpost_moved,
        )


@strawberry.type(description="Who changed what, when and why: one recorded event.")
class ChangeEntry:
    position: int = strawberry.field(description="The tenant's log position of the change.")
    stream_id: UUID = strawberry.field(description="The cycle, objective or setting changed.")
    stream_type: str
    version: int = strawberry.field(description="The changed object's version after it.")
    event_type: str = strawberry.field(description='E.g. "KeyResultRevised".')
    public_type: str = strawberry.field(
        description='The public, versioned type, e.g. "okr.key_result.revised.v1": the name '
        "auditLog(filter: {eventTypes}), events(types) and goalEvents(types) take."
    )
    actor: str = strawberry.field(description="Who made the change (the token's subject).")
    recorded_at: datetime
    command_id: str
    correlation_id: str | None
    reason: str | None = strawberry.field(description="Why, as given with the command.")
    summary: str = strawberry.field(description="The change in a sentence.")
    changes: list[FieldChange]
    observed_at: datetime | None = strawberry.field(
        description="For a check-in or a KPI-driven value: when the value applied "
        "(recordedAt is when it was recorded); null for other changes."
    )
    source: str | None = strawberry.field(
        description="For a check-in: the system (integration) it came from, if any."
    )
    run_id: str | None = strawberry.field(description="The integration run that sent it.")
    client: str | None = strawberry.field(
        description="The client application the caller's token named (client_id)."
    )

    @classmethod
    def of(cls, view: ChangeEntryView) -> Self:
        return cls(
            position=view.position,
            stream_id=view.stream_id,
            stream_type=view.stream_type,
            version=view.version,
            event_type=view.event_type,
            public_type=PUBLIC_BY_NAME[view.event_type],
            actor=view.actor,
            recorded_at=view.recorded_at,
            command_id=view.command_id,
            correlation_id=view.correlation_id,
            reason=view.reason,
            summary=view.summary,
            changes=[FieldChange.of(c) for c in view.changes],
            observed_at=view.provenance.observed_at,
            source=view.provenance.source,
            run_id=view.provenance.run_id,
            client=view.provenance.client,
        )
