"""Projection rebuild: replaying a tenant's log into fresh read models, in events per second.

The tenant holds one objective with three key results and a long run of check-ins (each
check-in touches the OKR tree and the change log), written straight to the log in large
appends. The peer in the same run is the raw rate of reading that log back in position
order, the floor under any rebuild.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import date
from decimal import Decimal

import asyncpg

from bench.database import bench_database
from bench.stats import Result
from okrledger.domain.cycle import Cycle
from okrledger.domain.objective import Confidence, MetricKind, Objective
from okrledger.infra.db import Database, app_dsn, set_tenant
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.rebuild import rebuild
from okrledger.projections import catalog
from okrledger.services.ports import CommandContext

CHUNK = 2000


async def seed(dsn: str, tenant: str, events: int) -> None:
    database = await Database.connect(app_dsn(dsn), min_size=1, max_size=2)
    store = PostgresEventStore(database)  # no inline projections: the rebuild makes them
    try:
        cycle = Cycle.start(
            id=uuid.uuid4(), name="2026-Q4", starts_on=date(2026, 10, 1), ends_on=date(2026, 12, 31)
        )
        await store.append(
            CommandContext(tenant, "bench", uuid.uuid4().hex), cycle.collect_events()
        )
        objective = Objective.set(
            id=uuid.uuid4(),
            title="Grow",
            description="",
            cycle_id=cycle.id,
            owner="bench",
            cycle_closed=False,
        )
        krs = [uuid.uuid4() for _ in range(3)]
        for n, kr in enumerate(krs):
            objective.add_key_result(
                key_result_id=kr,
                title=f"KR {n}",
                metric=MetricKind.NUMBER,
                start=0,
                target=1000,
                cycle_closed=False,
            )
        written = 4
        while written < events:
            for n in range(min(CHUNK, events - written)):
                objective.check_in_key_result(
                    key_result_id=krs[n % 3],
                    value=Decimal(n % 1000),
                    confidence=Confidence.ON_TRACK,
                    note="weekly check-in",
                )
            batch = objective.collect_events()
            await store.append(CommandContext(tenant, "bench", uuid.uuid4().hex), batch)
            written += len(batch)
    finally:
        await database.close()


async def read_rate(dsn: str, tenant: str) -> float:
    connection = await asyncpg.connect(dsn)
    try:
        began, count, position = time.perf_counter(), 0, 0
        while True:
            async with connection.transaction(readonly=True):
                await set_tenant(connection, tenant)
                rows = await connection.fetch(
                    """SELECT position, payload::text FROM events
                       WHERE tenant_id = $1 AND position > $2 ORDER BY position LIMIT 2000""",
                    tenant,
                    position,
                )
            if not rows:
                return count / (time.perf_counter() - began)
            count += len(rows)
            position = rows[-1]["position"]
    finally:
        await connection.close()


async def run(quick: bool = False) -> list[Result]:
    # 30,000 events keep the full run under a minute on a shared machine (docs/benchmarks.md).
    events, runs = (10_000, 2) if quick else (30_000, 1)
    tenant = f"rebuild-{uuid.uuid4().hex[:6]}"
    async with bench_database() as dsn:
        await seed(dsn, tenant, events)
        reads = [await read_rate(dsn, tenant) for _ in range(runs)]
        rates = []
        for _ in range(runs):
            began = time.perf_counter()
            report = await rebuild(dsn, catalog.projections(), tenant_id=tenant)
            rates.append(report.events / (time.perf_counter() - began))
    reads.sort()
    rates.sort()
    read_median, rate_median = reads[len(reads) // 2], rates[len(rates) // 2]
    return [
        Result("rebuild", f"read the log back ({events:,} events)", read_median, 0, 0, runs),
        Result(
            "rebuild",
            f"okrledger projections rebuild, one tenant ({events:,} events)",
            rate_median,
            0,
            0,
            runs,
            target=">= 20,000 events/s",
            verdict="met" if rate_median >= 20_000 else "missed",
            note=f"{rate_median / read_median:.0%} of the raw read rate",
        ),
    ]


if __name__ == "__main__":
    for result in asyncio.run(run(quick=bool(os.environ.get("BENCH_QUICK")))):
        print(result)
