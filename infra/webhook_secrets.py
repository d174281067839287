"""Webhook signing secrets: written in the append transaction of the event that made them.

The service stages a new secret for the length of its command (a ContextVar, so concurrent
commands never see each other's); the append hook stores it beside the registration or
rotation event, or fails the append when none was staged. Secrets never enter an event.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from uuid import UUID

import asyncpg

from okrledger.projections.recorded import RecordedEvent

_staged: ContextVar[dict[UUID, str] | None] = ContextVar("webhook_secrets", default=None)

_ISSUED = frozenset({"WebhookRegistered", "WebhookSecretRotated"})


class SecretNotStaged(RuntimeError):
    """A registration or rotation was appended without a secret (not through the service)."""


class WebhookSecrets:
    """Both the service's `SecretStaging` port and the event store hook that stores them."""

    def __init__(self, *, grace: timedelta = timedelta(hours=24)) -> None:
        self.grace = grace

    @contextmanager
    def staged(self, webhook_id: UUID, secret: str) -> Iterator[None]:
        token = _staged.set({**(_staged.get() or {}), webhook_id: secret})
        try:
            yield
        finally:
            _staged.reset(token)

    async def __call__(
        self, connection: asyncpg.Connection, records: Sequence[RecordedEvent]
    ) -> None:
        for record in records:
            if record.event_type == "WebhookRemoved":
                await connection.execute(
                    "DELETE FROM webhook_secrets WHERE tenant_id = $1 AND webhook_id = $2",
                    record.tenant_id,
                    record.stream_id,
                )
            if record.event_type not in _ISSUED:
                continue
            secret = (_staged.get() or {}).get(record.stream_id)
            if secret is None:
                raise SecretNotStaged(f"no secret staged for webhook {record.stream_id}")
            # A rotation keeps the old secret signing too for a while, so receivers can
            # switch over without refusing deliveries.
            await connection.execute(
                """INSERT INTO webhook_secrets AS s (tenant_id, webhook_id, secret)
                   VALUES ($1, $2, $3)
                   ON CONFLICT (tenant_id, webhook_id) DO UPDATE
                   SET previous_secret = s.secret, previous_until = now() + $4::interval,
                       secret = EXCLUDED.secret""",
                record.tenant_id,
                record.stream_id,
                secret,
                self.grace,
            )
