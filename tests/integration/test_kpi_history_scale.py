"""A year of 5-minute readings (105,120 points): weekly history answers from the daily
rollups in milliseconds, and no slower when another tenant holds more readings."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from okrledger.domain.kpi import Cadence
from okrledger.domain.kpi_health import Direction
from okrledger.infra.db import Database
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


async def a_year_of_readings(
    handler: Handler, tenant: str, points: int, start: datetime = START
) -> uuid.UUID:
    context = CommandContext(tenant, "loader", str(uuid.uuid4()))
    cmd = kpis.DefineKPI(
        "Latency",
        "latency",
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


async def weekly_p50_ms(database: Database, tenant: str, kpi_id: uuid.UUID) -> float:
    timings = []
    for _ in range(21):
        async with database.transaction(tenant, readonly=True) as rows:
            started = time.perf_counter()
            weeks = await kpi_history(
                rows, kpi_id, START, START + timedelta(days=365), Bucket.WEEK, Aggregate.AVG
            )
            timings.append(time.perf_counter() - started)
    assert sum(w.count for w in weeks) == YEAR
    return statistics.median(timings) * 1000


@pytest.mark.slow
async def test_weekly_history_of_a_year_of_five_minute_readings_answers_within_20_ms(
    database: Database, tenant: str, other_tenant: str
) -> None:
    handler = Handler(
        PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())])
    )
    started = time.perf_counter()
    kpi_id = await a_year_of_readings(handler, tenant, YEAR)
    loaded = time.perf_counter() - started
    alone = await weekly_p50_ms(database, tenant, kpi_id)

    await a_year_of_readings(handler, other_tenant, YEAR * 2, START - timedelta(days=365))
    crowded = await weekly_p50_ms(database, tenant, kpi_id)

    print(
        f"loaded {YEAR} readings inline in {loaded:.1f} s; weekly p50 {alone:.2f} ms alone, "
        f"{crowded:.2f} ms beside a tenant with twice as many"
    )
    assert alone <= 20
    assert crowded <= max(20, alone * 2)
