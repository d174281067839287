"""`python -m okrledger.infra.webhook_process`: a process that only delivers webhooks.

Any number of these (and of servers) share the outbox. Configured like the server, from
the environment; the server's migrations must have run.
"""

from __future__ import annotations

import asyncio
import signal

from okrledger.infra.bootstrap import build_store, delivery_policy, live_projections
from okrledger.infra.db import Database, app_dsn
from okrledger.infra.dns import SystemResolver
from okrledger.infra.logging import configure_logging
from okrledger.infra.settings import Settings
from okrledger.infra.webhook_secrets import WebhookSecrets
from okrledger.infra.webhook_worker import WebhookWorker
from okrledger.services.handling import Handler


async def deliver_until(stop: asyncio.Event, settings: Settings) -> None:
    if settings.app_database_url is None and settings.database_url is None:
        raise SystemExit("set DATABASE_URL or APP_DATABASE_URL")
    url = settings.app_database_url or app_dsn(str(settings.database_url), settings.app_db_password)
    database = await Database.connect(url, min_size=1, max_size=settings.webhook_concurrency + 2)
    try:
        store = build_store(database, live_projections(), WebhookSecrets())
        worker = WebhookWorker(
            database, Handler(store), SystemResolver(), delivery_policy(settings)
        )
        worker.start()
        await stop.wait()
        await worker.stop()
    finally:
        await database.close()


async def _main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await deliver_until(stop, settings)


if __name__ == "__main__":
    asyncio.run(_main())
