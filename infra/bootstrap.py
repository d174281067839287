"""The composition root: the one place that builds the pool, the store and the handlers."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta

from okrledger.infra.audit import verify_chain
from okrledger.infra.audit_chain import ChainCheck
from okrledger.infra.background import PolicyLoop
from okrledger.infra.db import Database, app_dsn
from okrledger.infra.dns import SystemResolver
from okrledger.infra.event_feed import EventFeed
from okrledger.infra.event_store import AppendHook, PostgresEventStore
from okrledger.infra.kpi_links import PostgresKPILinks, PostgresReadingLog
from okrledger.infra.migrations.runner import migrate
from okrledger.infra.outbox import PUBLIC_BY_EVENT_TYPE, WebhookOutbox
from okrledger.infra.projector import InlineProjections
from okrledger.infra.settings import Settings
from okrledger.infra.webhook_reads import PostgresWebhookReads
from okrledger.infra.webhook_secrets import WebhookSecrets
from okrledger.infra.webhook_worker import DeliveryPolicy, WebhookWorker
from okrledger.projections import catalog
from okrledger.projections.base import Projection, Rows
from okrledger.projections.event_log import EventLog
from okrledger.projections.webhooks import WebhooksProjection
from okrledger.services.handling import Handler
from okrledger.services.kpi_links import KPILinkPolicy
from okrledger.services.webhooks import Resolver, WebhookPorts


def live_projections() -> list[Projection]:
    """Every projection kept current inside each append."""
    return catalog.projections()


def build_store(
    database: Database, projections: Sequence[Projection], secrets: WebhookSecrets
) -> PostgresEventStore:
    """The store with its append hooks: inline projections, then webhook secrets and outbox
    (which read the `webhooks` projection, so it is always among the inline ones)."""
    chosen = list(projections)
    if not any(isinstance(p, WebhooksProjection) for p in chosen):
        chosen.append(WebhooksProjection())
    hooks: list[AppendHook] = [InlineProjections(chosen), secrets, WebhookOutbox()]
    return PostgresEventStore(database, hooks=hooks)


def webhook_ports(
    settings: Settings, secrets: WebhookSecrets, resolver: Resolver | None = None
) -> WebhookPorts:
    return WebhookPorts(
        resolver=resolver or SystemResolver(),
        secrets=secrets,
        known_event_types=frozenset(PUBLIC_BY_EVENT_TYPE.values()),
        allowed_networks=settings.webhook_networks,
    )


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        timeout_seconds=settings.webhook_timeout_seconds,
        retry_window_seconds=settings.webhook_retry_window_seconds,
        max_failures=settings.webhook_max_failures,
        concurrency=settings.webhook_concurrency,
        allowed_networks=settings.webhook_networks,
    )


@dataclass
class Runtime:
    """What a running server holds: settings, the application's pool, the store, the handler."""

    settings: Settings
    owner_dsn: str
    database: Database
    store: PostgresEventStore
    handler: Handler
    feed: EventFeed
    kpi_policy: KPILinkPolicy
    policy_loop: PolicyLoop
    webhooks: WebhookPorts
    webhook_reads: PostgresWebhookReads
    webhook_worker: WebhookWorker | None = field(default=None)

    def read(self, tenant_id: str) -> AbstractAsyncContextManager[Rows]:
        """A read-only transaction with the tenant set, for the read models."""
        return self.database.transaction(tenant_id, readonly=True)

    async def verify_chain(
        self, tenant_id: str, from_position: int, to_position: int | None
    ) -> ChainCheck:
        """The tenant's hash chain recomputed from its events as they are now."""
        async with self.database.transaction(tenant_id, readonly=True) as connection:
            return await verify_chain(connection, tenant_id, from_position, to_position)

    @property
    def events(self) -> EventLog:
        """The tenant logs as public events, for the `events` query and subscriptions."""
        return self.feed

    async def close(self) -> None:
        if self.webhook_worker is not None:
            await self.webhook_worker.stop()
            await self.webhook_worker.database.close()
            self.webhook_worker = None
        await self.policy_loop.stop()
        await self.feed.stop()
        await self.database.close()


async def start_runtime(
    settings: Settings,
    *,
    projections: Sequence[Projection] | None = None,
    background: bool = True,
) -> Runtime:
    """Migrate as the owner, then connect as the non-owner application role.

    `background` starts the per-tenant catch-up loop (off for one-shot commands).
    """
    owner = settings.database_url
    if owner is None:
        raise RuntimeError("DATABASE_URL is not set; `okrledger serve` starts an embedded server")
    await migrate(owner, app_password=settings.app_db_password)
    app_url = settings.app_database_url or app_dsn(owner, settings.app_db_password)
    database = await Database.connect(
        app_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        acquire_timeout=settings.pool_timeout_seconds,
        per_tenant=settings.pool_per_tenant or max(1, (settings.pool_max_size + 1) // 2),
    )
    chosen = live_projections() if projections is None else list(projections)
    secrets = WebhookSecrets(grace=timedelta(hours=24))
    store = build_store(database, chosen, secrets)
    feed = EventFeed(store, app_url, max_lag=settings.subscriber_max_lag)
    await feed.start()
    handler = Handler(store)
    policy = KPILinkPolicy(handler, PostgresKPILinks(database))
    loop = PolicyLoop(database, policy, PostgresReadingLog(store, database))
    if background:
        loop.start()
    return Runtime(
        settings,
        owner,
        database,
        store,
        handler,
        feed,
        policy,
        loop,
        webhook_ports(settings, secrets),
        PostgresWebhookReads(database),
    )


async def start_webhook_delivery(runtime: Runtime) -> WebhookWorker | None:
    """Start delivering webhooks from this process (unless OKRLEDGER_WEBHOOK_WORKER=false);
    `runtime.close()` stops it. For the app's lifespan, after `start_runtime`."""
    settings = runtime.settings
    if not settings.webhook_worker or runtime.webhook_worker is not None:
        return runtime.webhook_worker
    # Its own pool: a delivery holds a connection while it waits on the receiver, and slow
    # receivers must not take the connections requests need.
    app_url = settings.app_database_url or app_dsn(runtime.owner_dsn, settings.app_db_password)
    database = await Database.connect(
        app_url, min_size=1, max_size=settings.webhook_concurrency + 1
    )
    worker = WebhookWorker(
        database,
        runtime.handler,
        runtime.webhooks.resolver,
        delivery_policy(runtime.settings),
    )
    worker.start()
    runtime.webhook_worker = worker
    return worker
