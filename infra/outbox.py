"""The webhook outbox, written inside the append transaction: once events are committed,
so is one outbox row per (webhook, event) it wants. Nothing is lost if the process dies
after the commit; the delivery worker reads the rows, not the process's memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
import orjson

from okrledger.domain.webhook import PAUSED, matches
from okrledger.projections.public_events import PUBLIC_TYPES, filter_names
from okrledger.projections.recorded import RecordedEvent

PUBLIC_BY_EVENT_TYPE = {cls.__name__: name for cls, name in PUBLIC_TYPES.items()}

# A row in flight (locked by a worker until its receiver answers) is skipped rather than
# waited for: this runs in an append transaction, which holds the tenant's head row. The
# worker settles such a row itself once the receiver has answered.
_FREE_ROWS = """(SELECT o.tenant_id, o.webhook_id, o.position FROM webhook_outbox o
                 WHERE o.tenant_id = $1 AND o.webhook_id = $2 FOR UPDATE SKIP LOCKED)"""
_HOLD = f"""UPDATE webhook_outbox SET next_attempt_at = 'infinity'
            WHERE (tenant_id, webhook_id, position) IN {_FREE_ROWS}"""
_RELEASE = f"""UPDATE webhook_outbox SET next_attempt_at = now(), attempts = 0,
                   first_failure_at = NULL
               WHERE (tenant_id, webhook_id, position) IN {_FREE_ROWS}"""
_DROP = f"DELETE FROM webhook_outbox WHERE (tenant_id, webhook_id, position) IN {_FREE_ROWS}"
_REQUEUE = """
INSERT INTO webhook_outbox (tenant_id, webhook_id, position, event_id)
SELECT e.tenant_id, $2, e.position, e.event_id FROM events e
WHERE e.tenant_id = $1 AND e.position > $3 AND e.position < $4 AND e.event_type = ANY($5::text[])
ON CONFLICT DO NOTHING
"""
_ENQUEUE = """
INSERT INTO webhook_outbox (tenant_id, webhook_id, position, event_id, next_attempt_at)
SELECT $1, o.webhook_id, o.position, o.event_id,
       CASE WHEN o.held THEN 'infinity'::timestamptz ELSE now() END
FROM unnest($2::uuid[], $3::bigint[], $4::uuid[], $5::boolean[])
     AS o(webhook_id, position, event_id, held)
ON CONFLICT DO NOTHING
"""


def event_types_matching(patterns: Sequence[str]) -> list[str]:
    """The stored event type names whose public types a webhook asked for."""
    return [name for name, public in PUBLIC_BY_EVENT_TYPE.items() if _asked(patterns, public)]


def _asked(patterns: Sequence[str], public: str) -> bool:
    return any(matches(patterns, name) for name in filter_names(public))


class WebhookOutbox:
    """The event store hook; runs after the inline projections (the `webhooks` table)."""

    async def __call__(
        self, connection: asyncpg.Connection, records: Sequence[RecordedEvent]
    ) -> None:
        if not records:
            return
        tenant_id = records[0].tenant_id
        for record in records:
            await _follow_lifecycle(connection, record)
        subscribers = await connection.fetch(
            """SELECT webhook_id, event_types, status, start_position FROM webhooks
               WHERE tenant_id = $1 AND status <> 'removed'""",
            tenant_id,
        )
        if not subscribers:
            return
        rows = [
            (webhook["webhook_id"], record.position, record.event_id, webhook["status"] == PAUSED)
            for record in records
            if record.event_type in PUBLIC_BY_EVENT_TYPE
            for webhook in subscribers
            if record.position > webhook["start_position"]
            and _asked(webhook["event_types"], PUBLIC_BY_EVENT_TYPE[record.event_type])
        ]
        if rows:
            webhooks, positions, event_ids, held = (list(c) for c in zip(*rows, strict=True))
            await connection.execute(_ENQUEUE, tenant_id, webhooks, positions, event_ids, held)


async def _follow_lifecycle(connection: asyncpg.Connection, record: RecordedEvent) -> None:
    key = (record.tenant_id, record.stream_id)
    if record.event_type == "WebhookPaused":
        await connection.execute(_HOLD, *key)
    elif record.event_type == "WebhookResumed":
        await connection.execute(_RELEASE, *key)
    elif record.event_type == "WebhookRemoved":
        await connection.execute(_DROP, *key)
    elif record.event_type == "WebhookReplayed":
        patterns = await connection.fetchval(
            "SELECT event_types FROM webhooks WHERE tenant_id = $1 AND webhook_id = $2", *key
        )
        from_position = int(orjson.loads(record.payload)["from_position"])
        await connection.execute(
            _REQUEUE, *key, from_position, record.position, event_types_matching(patterns or [])
        )
        await connection.execute(_RELEASE, *key)
