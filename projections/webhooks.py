"""The `webhooks` table (url, event types, status per webhook), kept from the Webhook
streams, so the outbox finds a tenant's subscribers inside the append transaction; and
the reads the API serves: webhooks and their delivery attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from okrledger.domain.webhook import ACTIVE, PAUSED, REMOVED
from okrledger.projections.base import Rows
from okrledger.projections.recorded import RecordedEvent


class WebhooksProjection:
    name = "webhooks"
    handles = frozenset(
        {
            "WebhookRegistered",
            "WebhookSecretRotated",
            "WebhookPaused",
            "WebhookResumed",
            "WebhookReplayed",
            "WebhookRemoved",
        }
    )
    tables: tuple[str, ...] = ("webhooks",)

    async def apply(self, rows: Rows, record: RecordedEvent, event: Any) -> None:
        if record.event_type == "WebhookRegistered":
            await rows.execute(
                """INSERT INTO webhooks (tenant_id, webhook_id, url, event_types, description,
                       status, start_position, registered_at, changed_at, version)
                   VALUES ($1, $2, $3, $4::text[], $5, $6, $7, $8, $8, $9)
                   ON CONFLICT DO NOTHING""",
                record.tenant_id,
                record.stream_id,
                event.url,
                list(event.event_types),
                event.description,
                ACTIVE,
                record.position,
                record.recorded_at,
                record.version,
            )
            return
        status, reason = {
            "WebhookPaused": (PAUSED, getattr(event, "reason", None)),
            "WebhookResumed": (ACTIVE, None),
            "WebhookReplayed": (ACTIVE, None),
            "WebhookRemoved": (REMOVED, None),
        }.get(record.event_type, (None, None))
        await rows.execute(
            """UPDATE webhooks SET status = coalesce($3, status),
                   pause_reason = CASE WHEN $3::text IS NULL THEN pause_reason ELSE $4 END,
                   changed_at = $5, version = $6
               WHERE tenant_id = $1 AND webhook_id = $2 AND version < $6""",
            record.tenant_id,
            record.stream_id,
            status,
            reason,
            record.recorded_at,
            record.version,
        )


@dataclass(frozen=True)
class WebhookView:
    webhook_id: UUID
    url: str
    event_types: list[str]
    description: str
    status: str
    pause_reason: str | None
    registered_at: datetime
    changed_at: datetime
    version: int
    pending_deliveries: int


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST to a receiver (or one refused before sending), as the worker recorded it."""

    attempt_id: UUID
    webhook_id: UUID
    delivery_id: UUID
    position: int
    event_id: UUID
    attempt: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    succeeded: bool
    error: str | None
    next_attempt_at: datetime | None


class WebhookReads(Protocol):
    async def webhooks(self, tenant_id: str, *, include_removed: bool = False) -> list[WebhookView]:
        """The tenant's webhooks, oldest first."""
        ...

    async def webhook(self, tenant_id: str, webhook_id: UUID) -> WebhookView | None: ...

    async def deliveries(
        self,
        tenant_id: str,
        webhook_id: UUID,
        *,
        limit: int = 50,
        before: datetime | None = None,
    ) -> list[DeliveryAttempt]:
        """A webhook's delivery attempts, newest first, `before` a time for the next page."""
        ...


_WEBHOOK_COLUMNS = """w.webhook_id, w.url, w.event_types, w.description, w.status,
    w.pause_reason, w.registered_at, w.changed_at, w.version,
    (SELECT count(*) FROM webhook_outbox o
     WHERE o.tenant_id = w.tenant_id AND o.webhook_id = w.webhook_id) AS pending_deliveries"""


async def read_webhooks(
    rows: Rows, tenant_id: str, *, include_removed: bool = False
) -> list[WebhookView]:
    found = await rows.fetch(
        f"""SELECT {_WEBHOOK_COLUMNS} FROM webhooks w
            WHERE w.tenant_id = $1 AND ($2 OR w.status <> 'removed')
            ORDER BY w.registered_at, w.webhook_id""",
        tenant_id,
        include_removed,
    )
    return [WebhookView(**dict(row)) for row in found]


async def read_webhook(rows: Rows, tenant_id: str, webhook_id: UUID) -> WebhookView | None:
    row = await rows.fetchrow(
        f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks w WHERE w.tenant_id = $1 AND w.webhook_id = $2",
        tenant_id,
        webhook_id,
    )
    return None if row is None else WebhookView(**dict(row))


async def read_deliveries(
    rows: Rows,
    tenant_id: str,
    webhook_id: UUID,
    *,
    limit: int = 50,
    before: datetime | None = None,
) -> list[DeliveryAttempt]:
    found = await rows.fetch(
        """SELECT attempt_id, webhook_id, delivery_id, position, event_id, attempt,
               attempted_at, duration_ms, status_code, succeeded, error, next_attempt_at
           FROM webhook_deliveries
           WHERE tenant_id = $1 AND webhook_id = $2
             AND ($3::timestamptz IS NULL OR attempted_at < $3)
           ORDER BY attempted_at DESC LIMIT $4""",
        tenant_id,
        webhook_id,
        before,
        max(1, min(limit, 500)),
    )
    return [DeliveryAttempt(**dict(row)) for row in found]
