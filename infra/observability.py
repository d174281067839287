"""Metrics and traces wired into one app: built from the settings, started with the runtime."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg
from starlette.middleware import Middleware

from okrledger.graphql.observe import OperationObserver
from okrledger.infra.access_log import AccessLogMiddleware, AccessLogObserver
from okrledger.infra.bootstrap import Runtime, live_projections
from okrledger.infra.kpi_links import POLICY
from okrledger.infra.metrics import Metrics
from okrledger.infra.metrics_http import MetricsMiddleware, pool_use
from okrledger.infra.settings import Settings
from okrledger.infra.tracing import Tracing, start_tracing


def tracked_positions() -> list[str]:
    """Every name the server keeps a position under: its projections and the KPI policy."""
    return [*(p.name for p in live_projections()), POLICY]


@dataclass
class Observability:
    metrics: Metrics | None
    tracing: Tracing | None
    runtime: Runtime | None = field(default=None)
    access_log: AccessLogObserver = field(default_factory=AccessLogObserver)

    @classmethod
    def of(cls, settings: Settings) -> Observability:
        return cls(Metrics() if settings.metrics else None, start_tracing(settings))

    @property
    def observers(self) -> Sequence[OperationObserver]:
        """What watches each GraphQL operation: the access log, metrics and traces."""
        return [o for o in (self.access_log, self.metrics, self.tracing) if o is not None]

    def middleware(self, settings: Settings) -> list[Middleware]:
        # Outermost, so requests refused before GraphQL (401, 413) are logged with their status.
        access_log = Middleware(AccessLogMiddleware)
        if self.metrics is None:
            return [access_log]
        return [
            access_log,
            Middleware(
                MetricsMiddleware,
                metrics=self.metrics,
                pools=self.pools,
                projections=tracked_positions(),
                token=settings.metrics_token,
            ),
        ]

    def pools(self) -> Mapping[str, asyncpg.Pool]:
        runtime = self.runtime
        if runtime is None:
            return {}
        found = {"requests": runtime.database.pool}
        if runtime.webhook_worker is not None:
            found["webhooks"] = runtime.webhook_worker.database.pool
        return found

    def started(self, runtime: Runtime) -> None:
        self.runtime = runtime
        if self.metrics is not None:
            runtime.store.add_observer(self.metrics.appended)
            # Reported from the start, so every worker counts before it answers anything.
            self.metrics.pools({name: pool_use(pool) for name, pool in self.pools().items()})
        if self.tracing is not None:
            runtime.database.trace = self.tracing.span

    async def close(self) -> None:
        self.runtime = None
        if self.tracing is not None:
            # Exporting what is buffered blocks on the receiver: not on the event loop.
            await asyncio.to_thread(self.tracing.close)
        if self.metrics is not None:
            self.metrics.close()
