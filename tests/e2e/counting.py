"""The server's runtime with reads that count the SQL statements they run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from okrledger.graphql.context import ChainCheck
from okrledger.infra.bootstrap import Runtime
from okrledger.projections.base import Rows
from okrledger.projections.event_log import EventLog
from okrledger.projections.webhooks import WebhookReads
from okrledger.services.handling import Handler
from okrledger.services.kpi_links import KPILinkPolicy
from okrledger.services.webhooks import WebhookPorts


class CountingBackend:
    """The server's runtime, counting the SQL statements its reads run (not their setup)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.statements: list[str] = []

    @property
    def handler(self) -> Handler:
        return self.runtime.handler

    @property
    def kpi_policy(self) -> KPILinkPolicy:
        return self.runtime.kpi_policy

    @property
    def events(self) -> EventLog:
        return self.runtime.events

    @property
    def webhooks(self) -> WebhookPorts:
        return self.runtime.webhooks

    @property
    def webhook_reads(self) -> WebhookReads:
        return self.runtime.webhook_reads

    @asynccontextmanager
    async def _read(self, tenant_id: str) -> AsyncIterator[Rows]:
        async with self.runtime.read(tenant_id) as rows:
            connection: Any = rows
            connection.add_query_logger(self._log)
            try:
                yield rows
            finally:
                connection.remove_query_logger(self._log)

    def read(self, tenant_id: str) -> AbstractAsyncContextManager[Rows]:
        return self._read(tenant_id)

    async def verify_chain(
        self, tenant_id: str, from_position: int, to_position: int | None
    ) -> ChainCheck:
        return await self.runtime.verify_chain(tenant_id, from_position, to_position)

    def _log(self, record: Any) -> None:
        self.statements.append(record.query)
