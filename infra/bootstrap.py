"""The composition root: the one place that builds the pool, the store and the handlers."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from okrledger.infra.audit import verify_chain
from okrledger.infra.audit_chain import ChainCheck
from okrledger.infra.background import PolicyLoop
from okrledger.infra.db import Database, app_dsn
from okrledger.infra.event_feed import EventFeed
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.kpi_links import PostgresKPILinks, PostgresReadingLog
from okrledger.infra.migrations.runner import migrate
from okrledger.infra.projector import InlineProjections
from okrledger.infra.settings import Settings
from okrledger.projections import catalog
from okrledger.projections.base import Projection, Rows
from okrledger.projections.event_log import EventLog
from okrledger.services.handling import Handler
from okrledger.services.kpi_links import KPILinkPolicy


def live_projections() -> list[Projection]:
    """Every projection kept current inside each append."""
    return catalog.projections()


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
    )
    chosen = live_projections() if projections is None else list(projections)
    store = PostgresEventStore(database, hooks=[InlineProjections(chosen)] if chosen else [])
    feed = EventFeed(store, app_url, max_lag=settings.subscriber_max_lag)
    await feed.start()
    handler = Handler(store)
    policy = KPILinkPolicy(handler, PostgresKPILinks(database))
    loop = PolicyLoop(database, policy, PostgresReadingLog(store, database))
    if background:
        loop.start()
    return Runtime(settings, owner, database, store, handler, feed, policy, loop)
