"""Webhook signing secrets: written in the append transaction of the event that made them.

The service stages a new secret for the length of its command, under the command id and
the webhook; the append hook stores it beside the registration or rotation event, or fails
the append when none was staged. Staged secrets are held by the store's hook, not by the
command's task, because appends are written in batches by one task per tenant
(group_commit.py). Secrets never enter an event.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import asyncpg

from okrledger.projections.recorded import RecordedEvent

_ISSUED = frozenset({"WebhookRegistered", "WebhookSecretRotated"})


@dataclass
class _Staged:
    secret: str
    holders: int = 0


class SecretNotStaged(RuntimeError):
    """A registration or rotation was appended without a secret (not through the service)."""


class WebhookSecrets:
    """Both the service's `SecretStaging` port and the event store hook that stores them."""

    def __init__(self, *, grace: timedelta = timedelta(hours=24)) -> None:
        self.grace = grace
        self._staged: dict[tuple[str, UUID], _Staged] = {}

    @contextmanager
    def staged(self, command_id: str, webhook_id: UUID, secret: str) -> Iterator[str]:
        """Stage `secret` for the block; yields the secret the append will store. A retry of
        the same command sent at the same time shares the first one's, so whichever of them
        appends, the secret stored is the one both were given."""
        key = (command_id, webhook_id)
        staged = self._staged.setdefault(key, _Staged(secret))
        staged.holders += 1
        try:
            yield staged.secret
        finally:
            staged.holders -= 1
            if not staged.holders:
                del self._staged[key]

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
            staged = self._staged.get((record.command_id, record.stream_id))
            if staged is None:
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
                staged.secret,
                self.grace,
            )
