"""Runs projections: inline in the append transaction, and catching up from the log.

Both paths call the same `project` (each projection's `apply`, or its `apply_many`
for the events of an append or a page of the log) and record the position reached
in the same transaction as the rows, so a projection applies each event exactly once
however often a runner crashes and restarts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from okrledger.infra.codec import decode
from okrledger.infra.db import Database
from okrledger.projections.base import BatchProjection, Item, Projection, Rows
from okrledger.projections.recorded import RecordedEvent

_ADVANCE = """
INSERT INTO public.projection_positions AS p (tenant_id, projection, position)
SELECT $1, name, $3 FROM unnest($2::text[]) AS name
ON CONFLICT (tenant_id, projection) DO UPDATE SET position = EXCLUDED.position
WHERE p.position < EXCLUDED.position
"""


async def apply_records(
    connection: asyncpg.Connection,
    projections: Sequence[Projection],
    records: Sequence[RecordedEvent],
) -> None:
    """Apply records (in position order) to every projection and advance their positions."""
    if not records:
        return
    await project(connection, projections, records)
    await advance(connection, records[0].tenant_id, projections, records[-1].position)


async def project(
    connection: Rows,
    projections: Sequence[Projection],
    records: Sequence[RecordedEvent],
    decoded: dict[int, Any] | None = None,
) -> None:
    """Apply records (in position order) to each projection in turn, the events it handles
    all at once when it can (a projection reads only its own tables and, through versioned
    rows as of a position, those of the projections before it).

    `decoded` holds domain events already decoded, by position; missing ones are decoded
    here (and added to it).
    """
    if decoded is None:
        decoded = {}
    for projection in projections:
        handles = projection.handles
        items: list[Item] = []
        for record in records:
            if record.event_type not in handles:
                continue
            event = decoded.get(record.position)
            if event is None:
                event = decoded[record.position] = decode(record)
            items.append((record, event))
        if not items:
            continue
        if isinstance(projection, BatchProjection):
            await projection.apply_many(connection, items)
        else:
            for record, event in items:
                await projection.apply(connection, record, event)


def decode_handled(
    projections: Sequence[Projection], records: Sequence[RecordedEvent]
) -> dict[int, Any]:
    """The domain events of the records some projection handles, by position."""
    handled = frozenset().union(*(p.handles for p in projections))
    return {r.position: decode(r) for r in records if r.event_type in handled}


async def advance(
    connection: asyncpg.Connection,
    tenant_id: str,
    projections: Sequence[Projection],
    position: int,
) -> None:
    """Record that `projections` have applied the tenant's log up to `position`."""
    await connection.execute(_ADVANCE, tenant_id, [p.name for p in projections], position)


class InlineProjections:
    """The event store hook that keeps projections current inside each append."""

    def __init__(self, projections: Sequence[Projection]) -> None:
        self.projections = list(projections)

    async def __call__(
        self, connection: asyncpg.Connection, records: Sequence[RecordedEvent]
    ) -> None:
        await apply_records(connection, self.projections, records)


async def positions(database: Database, tenant_id: str) -> dict[str, int]:
    async with database.transaction(tenant_id, readonly=True) as connection:
        rows = await connection.fetch(
            "SELECT projection, position FROM projection_positions WHERE tenant_id = $1",
            tenant_id,
        )
    return {row["projection"]: row["position"] for row in rows}
