"""The webhook reads (`projections.webhooks.WebhookReads`) over the application's pool."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from okrledger.infra.db import Database
from okrledger.projections.webhooks import (
    DeliveryAttempt,
    WebhookView,
    read_deliveries,
    read_webhook,
    read_webhooks,
)


class PostgresWebhookReads:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def webhooks(self, tenant_id: str, *, include_removed: bool = False) -> list[WebhookView]:
        async with self.database.transaction(tenant_id, readonly=True) as connection:
            return await read_webhooks(connection, tenant_id, include_removed=include_removed)

    async def webhook(self, tenant_id: str, webhook_id: UUID) -> WebhookView | None:
        async with self.database.transaction(tenant_id, readonly=True) as connection:
            return await read_webhook(connection, tenant_id, webhook_id)

    async def deliveries(
        self,
        tenant_id: str,
        webhook_id: UUID,
        *,
        limit: int = 50,
        before: datetime | None = None,
    ) -> list[DeliveryAttempt]:
        async with self.database.transaction(tenant_id, readonly=True) as connection:
            return await read_deliveries(
                connection, tenant_id, webhook_id, limit=limit, before=before
            )
