"""How webhook events read in the change history: who registered, paused or removed which
webhook. The signing secret is never part of an event, so never part of the history."""

from __future__ import annotations

from typing import Any

from okrledger.projections.base import Rows
from okrledger.projections.change_log import Describer, Description, FieldChange
from okrledger.projections.recorded import RecordedEvent


async def _url(rows: Rows, record: RecordedEvent) -> str:
    url = await rows.fetchval(
        "SELECT url FROM webhooks WHERE tenant_id = $1 AND webhook_id = $2",
        record.tenant_id,
        record.stream_id,
    )
    return str(url or record.stream_id)


async def webhook_registered(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    types = ", ".join(e.event_types)
    return Description(
        f"Webhook registered for {e.url} ({types})",
        [FieldChange("url", None, e.url), FieldChange("eventTypes", None, types)],
    )


async def webhook_secret_rotated(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    return Description(f"Signing secret of the webhook for {await _url(rows, record)} rotated")


async def webhook_paused(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    why = f": {e.reason}" if e.reason else ""
    return Description(
        f"Webhook for {await _url(rows, record)} paused{why}",
        [FieldChange("status", "active", "paused")],
    )


async def webhook_resumed(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    return Description(
        f"Webhook for {await _url(rows, record)} resumed",
        [FieldChange("status", "paused", "active")],
    )


async def webhook_replayed(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    return Description(
        f"Webhook for {await _url(rows, record)} replayed from position {e.from_position}",
        [FieldChange("status", "paused", "active")],
    )


async def webhook_removed(rows: Rows, record: RecordedEvent, e: Any) -> Description:
    return Description(f"Webhook for {await _url(rows, record)} removed")


DESCRIBERS: dict[str, Describer] = {
    "WebhookRegistered": webhook_registered,
    "WebhookSecretRotated": webhook_secret_rotated,
    "WebhookPaused": webhook_paused,
    "WebhookResumed": webhook_resumed,
    "WebhookReplayed": webhook_replayed,
    "WebhookRemoved": webhook_removed,
}
