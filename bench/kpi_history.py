"""KPI history: weekly buckets over a year of 5-minute readings (105,120 points), answered
from the daily rollups; peer: the same averages by one GROUP BY over the raw readings."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

from bench.database import bench_database
from bench.stats import Result, summarise
from okrledger.domain.kpi import Cadence
from okrledger.domain.kpi_health import Direction
from okrledger.infra.db import Database, app_dsn
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections
from okrledger.projections import catalog
from okrledger.projections.kpi_queries import Aggregate, Bucket, kpi_history
from okrledger.services import kpis
from okrledger.services.handling import Handler
from okrledger.services.kpis import BandsInput, ReadingInput
from okrledger.services.ports import CommandContext

START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR = 365 * 24 * 12  # 105,120 five-minute readings
RUNS = 21
CROWD = 10  # the other tenant's KPIs, a year of readings each


async def a_year_of_readings(
    handler: Handler, tenant: str, points: int, start: datetime = START, key: str = "latency"
) -> uuid.UUID:
    context = CommandContext(tenant, "loader", str(uuid.uuid4()))
    cmd = kpis.DefineKPI(
        "Latency",
        key,
        "ms",
        Direction.LOWER_IS_BETTER,
        "ops",
        Cadence.HOURLY,
        bands=BandsInput(Decimal(200), Decimal(400)),
    )
    kpi_id = (await kpis.define_kpi(cmd, context, handler)).aggregate.id
    for first in range(0, points, 5000):
        batch = [
            ReadingInput(Decimal(100 + i % 50), start + timedelta(minutes=5 * i))
            for i in range(first, min(first + 5000, points))
        ]
        context = CommandContext(tenant, "loader", str(uuid.uuid4()))
        await kpis.record_kpi_readings(kpis.RecordKPIReadings(kpi_id, batch), context, handler)
    return kpi_id


async def weekly(database: Database, tenant: str, kpi_id: uuid.UUID) -> list[float]:
    """Latencies of weekly AVG history over the year, one read per run."""
    timings = []
    for _ in range(RUNS):
        async with database.transaction(tenant, readonly=True) as rows:
            started = time.perf_counter()
            weeks = await kpi_history(
                rows, kpi_id, START, START + timedelta(days=365), Bucket.WEEK, Aggregate.AVG
            )
            timings.append(time.perf_counter() - started)
    assert sum(w.count for w in weeks) == YEAR, "every reading lands in a week"
    return timings


async def raw(database: Database, tenant: str, kpi_id: uuid.UUID) -> list[float]:
    """The peer: the same weekly averages computed by one SQL statement over raw readings."""
    timings = []
    for _ in range(RUNS):
        async with database.transaction(tenant, readonly=True) as rows:
            started = time.perf_counter()
            await rows.fetch(
                """SELECT date_trunc('week', observed_at AT TIME ZONE 'UTC'), avg(value), count(*)
                   FROM kpi_readings WHERE tenant_id = $1 AND kpi_id = $2
                     AND observed_at >= $3 AND observed_at < $4 GROUP BY 1 ORDER BY 1""",
                tenant,
                kpi_id,
                START,
                START + timedelta(days=365),
            )
            timings.append(time.perf_counter() - started)
    return timings


async def _analyze(dsn: str) -> None:
    # Steady state: right after a bulk load, until autovacuum analyzes the new rows, the
    # planner scans readings instead of the rollups (about 100 ms instead of 2 ms here).
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("ANALYZE kpi_daily; ANALYZE kpi_readings")
    finally:
        await connection.close()


async def run(quick: bool = False) -> list[Result]:
    if quick:
        return []  # loading a year of readings takes about a minute: full runs only
    tenant, other = f"kpi-{uuid.uuid4().hex[:6]}", f"crowd-{uuid.uuid4().hex[:6]}"
    async with bench_database() as dsn:
        database = await Database.connect(app_dsn(dsn), min_size=1, max_size=4)
        try:
            handler = Handler(
                PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())])
            )
            kpi_id = await a_year_of_readings(handler, tenant, YEAR)
            await _analyze(dsn)
            peer = await raw(database, tenant, kpi_id)
            alone = await weekly(database, tenant, kpi_id)
            # Another tenant with ten times as many readings: ten KPIs of a year each,
            # loaded two at a time.
            for first in range(0, CROWD, 2):
                await asyncio.gather(
                    *(
                        a_year_of_readings(
                            handler, other, YEAR, START - timedelta(days=365), f"latency-{n}"
                        )
                        for n in range(first, min(first + 2, CROWD))
                    )
                )
            await _analyze(dsn)
            crowded = await weekly(database, tenant, kpi_id)
        finally:
            await database.close()
    raw_p50 = statistics.median(peer) * 1000
    peer_row = summarise("kpi.history", "peer: one SQL GROUP BY over raw readings", [0], peer)
    results = [
        Result(
            peer_row.benchmark,
            peer_row.subject,
            len(peer) / sum(peer),
            peer_row.p50_ms,
            peer_row.p99_ms,
            RUNS,
        )
    ]
    crowd = f"beside a tenant with {CROWD}x as many readings"
    for label, timings in (("alone", alone), (crowd, crowded)):
        mine = summarise(
            "kpi.history", f"weekly AVG over a year of 5-minute readings, {label}", [0], timings
        )
        results.append(
            Result(
                mine.benchmark,
                mine.subject,
                len(timings) / sum(timings),
                mine.p50_ms,
                mine.p99_ms,
                RUNS,
                "p50 <= 20 ms",
                "met" if mine.p50_ms <= 20 else "missed",
                f"{mine.p50_ms / raw_p50:.2f}x the raw GROUP BY",
            )
        )
    return results


if __name__ == "__main__":
    for result in asyncio.run(run(quick=bool(os.environ.get("BENCH_QUICK")))):
        print(result)
