"""Delivering the webhook outbox: at least once, in position order per webhook.

A delivery claims its outbox row with FOR UPDATE SKIP LOCKED and holds the lock, in one
transaction, while it POSTs; success deletes the row, failure schedules the next attempt,
and the attempt is recorded either way, all in that transaction. A worker that dies
mid-delivery rolls back and unlocks: another worker sends the same delivery id again.
Only a webhook's oldest row can be claimed, so a later event never overtakes an earlier
one still undelivered. Workers in any number of processes share the outbox.

Row-Level Security holds here too: the worker asks `webhook_tenants_due()` (a SECURITY
DEFINER function that returns tenant ids only) which tenants have deliveries due, then
works inside each tenant's wall like any other unit of work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import httpx
import orjson

from okrledger.domain.webhook import Network, UnsafeWebhookURL, WebhookStateError
from okrledger.infra.codec import decode
from okrledger.infra.db import Database
from okrledger.infra.dns import checked_client
from okrledger.infra.webhook_signature import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from okrledger.projections.public_events import cloud_event
from okrledger.projections.recorded import RecordedEvent
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext
from okrledger.services.webhooks import PauseWebhook, Resolver, pause_webhook

log = logging.getLogger(__name__)

WORKER_ACTOR = "okrledger:webhook-delivery"

_CLAIM = """
SELECT o.webhook_id, o.position, o.delivery_id, o.attempts, o.first_failure_at, w.url,
       s.secret, CASE WHEN s.previous_until > now() THEN s.previous_secret END AS previous
FROM webhook_outbox o
JOIN webhooks w ON w.tenant_id = o.tenant_id AND w.webhook_id = o.webhook_id
JOIN webhook_secrets s ON s.tenant_id = o.tenant_id AND s.webhook_id = o.webhook_id
WHERE o.tenant_id = $1 AND o.next_attempt_at <= now() AND w.status = 'active'
  AND o.position = (SELECT min(h.position) FROM webhook_outbox h
                    WHERE h.tenant_id = o.tenant_id AND h.webhook_id = o.webhook_id)
ORDER BY o.next_attempt_at, o.position
LIMIT 1
FOR UPDATE OF o SKIP LOCKED
"""

_EVENT = """
SELECT tenant_id, stream_id, version, position, event_id, stream_type, event_type, topic,
       payload::text AS payload, occurred_at, recorded_at, actor, command_id, correlation_id,
       reason
FROM events WHERE tenant_id = $1 AND position = $2
"""

_SETTLE = """
WITH webhook AS (
    SELECT status FROM webhooks WHERE tenant_id = $1 AND webhook_id = $2
), held AS (
    UPDATE webhook_outbox SET next_attempt_at = 'infinity'
    WHERE tenant_id = $1 AND webhook_id = $2 AND position = $3
      AND (SELECT status FROM webhook) = 'paused'
)
DELETE FROM webhook_outbox
WHERE tenant_id = $1 AND webhook_id = $2 AND position = $3
  AND (SELECT status FROM webhook) = 'removed'
"""

_RECORD = """
INSERT INTO webhook_deliveries (tenant_id, attempt_id, webhook_id, delivery_id, position,
    event_id, attempt, attempted_at, duration_ms, status_code, succeeded, error, next_attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_seconds: float = 10.0
    backoff_base_seconds: float = 5.0
    backoff_cap_seconds: float = 3600.0
    # A webhook whose oldest delivery has failed for this long is paused.
    retry_window_seconds: float = 86400.0
    # ... or after this many failures in a row (0: only the window counts).
    max_failures: int = 0
    concurrency: int = 8
    poll_seconds: float = 1.0
    allowed_networks: tuple[Network, ...] = ()


def backoff_seconds(failures: int, policy: DeliveryPolicy) -> float:
    """Exponential and capped, with jitter (half to all of the step), so receivers coming
    back from an outage are not hit by every webhook at the same instant."""
    step = min(
        policy.backoff_cap_seconds, policy.backoff_base_seconds * 2.0 ** min(failures - 1, 40)
    )
    return step / 2 + random.random() * step / 2


@dataclass(frozen=True)
class _Attempt:
    started: datetime
    duration_ms: int
    status_code: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookWorker:
    def __init__(
        self,
        database: Database,
        handler: Handler,
        resolver: Resolver,
        policy: DeliveryPolicy | None = None,
    ) -> None:
        self.database = database
        self.handler = handler
        self.resolver = resolver
        self.policy = policy or DeliveryPolicy()
        # The destination is checked when each connection opens, against the addresses
        # it then connects to (see infra/dns.py).
        self._client = checked_client(resolver, self.policy.allowed_networks)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="webhook-worker")

    async def stop(self) -> None:
        """Stop claiming; let deliveries in flight finish (or roll back at the deadline)."""
        self._stopping.set()
        if self._task is not None:
            # At the deadline wait_for cancels it: unfinished deliveries roll back, to be retried.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._task, timeout=self.policy.timeout_seconds + 5)
            self._task = None
        await self._client.aclose()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            delivered = 0
            try:
                delivered = await self.run_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("webhook delivery round failed", extra={"error": str(error)})
            except Exception:
                # The top of a background task: log and go on, or delivery stops unnoticed.
                log.exception("webhook delivery round failed")
            if not delivered:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.policy.poll_seconds)

    async def run_once(self) -> int:
        """Deliver everything due now, every tenant; returns the attempts made."""
        async with self.database.pool.acquire() as connection:
            rows = await connection.fetch("SELECT tenant_id FROM webhook_tenants_due($1)", 100)
        gate = asyncio.Semaphore(self.policy.concurrency)

        async def lane(tenant_id: str) -> int:
            attempts = 0
            while not self._stopping.is_set():
                async with gate:
                    if not await self.deliver_next(tenant_id):
                        break
                attempts += 1
            return attempts

        lanes = [lane(r["tenant_id"]) for r in rows for _ in range(self.policy.concurrency)]
        outcomes = await asyncio.gather(*lanes, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            if isinstance(outcome, BaseException):
                log.error("webhook delivery failed", exc_info=outcome)
        return sum(outcome for outcome in outcomes if isinstance(outcome, int))

    async def deliver_next(self, tenant_id: str) -> bool:
        """Claim and deliver one due row of the tenant; False when none is free."""
        give_up: str | None = None
        async with self.database.transaction(tenant_id) as connection:
            claimed = await connection.fetchrow(_CLAIM, tenant_id)
            if claimed is None:
                return False
            event_row = await connection.fetchrow(_EVENT, tenant_id, claimed["position"])
            assert event_row is not None, "an outbox row points at an event of its tenant"
            record = RecordedEvent(**dict(event_row))
            body = orjson.dumps(cloud_event(record, decode(record)))
            attempt = await self._post(claimed, body)
            give_up = await self._record(connection, tenant_id, claimed, record, attempt)
        if give_up is not None:
            await self._pause(tenant_id, claimed["webhook_id"], give_up)
        return True

    async def _post(self, claimed: asyncpg.Record, body: bytes) -> _Attempt:
        secrets = [claimed["secret"], *([claimed["previous"]] if claimed["previous"] else [])]
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/cloudevents+json",
            "User-Agent": "okrledger-webhooks/1",
            SIGNATURE_HEADER: signature_header(secrets, timestamp, body),
            DELIVERY_HEADER: str(claimed["delivery_id"]),
            "Okrledger-Attempt": str(claimed["attempts"] + 1),
        }
        started = datetime.now(UTC)
        clock = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self.policy.timeout_seconds):
                async with self._client.stream(
                    "POST", claimed["url"], content=body, headers=headers
                ) as response:
                    status_code = response.status_code
        except UnsafeWebhookURL as refused:
            error = f"refused: {refused.message}"
        except TimeoutError:
            error = f"timed out after {self.policy.timeout_seconds:g}s"
        except httpx.HTTPError as failed:
            error = f"{type(failed).__name__}: {failed}"[:500]
        if status_code is not None and not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
        duration = int((time.monotonic() - clock) * 1000)
        return _Attempt(started, duration, status_code, error)

    async def _record(
        self,
        connection: asyncpg.Connection,
        tenant_id: str,
        claimed: asyncpg.Record,
        record: RecordedEvent,
        attempt: _Attempt,
    ) -> str | None:
        """Record the attempt and its consequence; the reason to pause, if it is time to."""
        number = claimed["attempts"] + 1
        key = (tenant_id, claimed["webhook_id"], claimed["position"])
        next_at: datetime | None = None
        give_up: str | None = None
        if attempt.succeeded:
            await connection.execute(
                "DELETE FROM webhook_outbox"
                " WHERE tenant_id = $1 AND webhook_id = $2 AND position = $3",
                *key,
            )
        else:
            first_failure = claimed["first_failure_at"] or attempt.started
            next_at = attempt.started + timedelta(seconds=backoff_seconds(number, self.policy))
            window = timedelta(seconds=self.policy.retry_window_seconds)
            if attempt.started - first_failure >= window or (
                self.policy.max_failures and number >= self.policy.max_failures
            ):
                since = first_failure.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                give_up = f"{number} failed attempts since {since}, last: {attempt.error}"
            await connection.execute(
                """UPDATE webhook_outbox SET attempts = $4, first_failure_at = $5,
                       next_attempt_at = $6, last_error = $7
                   WHERE tenant_id = $1 AND webhook_id = $2 AND position = $3""",
                *key,
                number,
                first_failure,
                next_at,
                attempt.error,
            )
            # Paused or removed while this delivery was in flight: settle as they would have.
            await connection.execute(_SETTLE, *key)
        await connection.execute(
            _RECORD,
            tenant_id,
            uuid4(),
            claimed["webhook_id"],
            claimed["delivery_id"],
            claimed["position"],
            record.event_id,
            number,
            attempt.started,
            attempt.duration_ms,
            attempt.status_code,
            attempt.succeeded,
            attempt.error,
            next_at,
        )
        return give_up

    async def _pause(self, tenant_id: str, webhook_id: UUID, why: str) -> None:
        context = CommandContext(
            tenant_id, WORKER_ACTOR, f"webhook-auto-pause:{uuid4()}", reason=why
        )
        try:
            await pause_webhook(PauseWebhook(webhook_id, reason=why), context, self.handler)
        except WebhookStateError:
            return  # paused or removed meanwhile
        log.warning(
            "webhook paused after repeated failures",
            extra={"tenant_id": tenant_id, "webhook_id": str(webhook_id), "reason": why},
        )
