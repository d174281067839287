"""A KPI stream of 100,000 readings: recording one more costs what it costs on a short stream,
because the KPI loads from a snapshot and its state holds no reading history."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from okrledger.domain.kpi import KPI, Cadence
from okrledger.domain.kpi_health import Direction
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services import kpis
from okrledger.services.handling import Handler
from okrledger.services.kpis import SNAPSHOT_EVERY, BandsInput, ReadingInput
from okrledger.services.ports import CommandContext

START = datetime(2015, 1, 1, tzinfo=UTC)


def ctx(tenant: str) -> CommandContext:
    return CommandContext(tenant, "loader", str(uuid.uuid4()))


async def a_kpi_with(handler: Handler, tenant: str, readings: int) -> uuid.UUID:
    cmd = kpis.DefineKPI(
        "Bounce rate",
        f"bounce-rate-{readings}",
        "%",
        Direction.LOWER_IS_BETTER,
        "marketing",
        Cadence.HOURLY,
        bands=BandsInput(Decimal(40), Decimal(60)),
    )
    kpi_id = (await kpis.define_kpi(cmd, ctx(tenant), handler)).aggregate.id
    for first in range(0, readings, 5000):
        batch = [
            ReadingInput(Decimal(30 + i % 40), START + timedelta(hours=i))
            for i in range(first, min(first + 5000, readings))
        ]
        await kpis.record_kpi_readings(kpis.RecordKPIReadings(kpi_id, batch), ctx(tenant), handler)
    return kpi_id


async def seconds_to_record_one(handler: Handler, tenant: str, kpi_id: uuid.UUID) -> float:
    timings = []
    for _ in range(9):
        cmd = kpis.RecordKPIReading(kpi_id, Decimal(45), datetime.now(UTC))
        started = time.perf_counter()
        await kpis.record_kpi_reading(cmd, ctx(tenant), handler)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


@pytest.mark.slow
async def test_recording_into_a_stream_of_100000_readings_costs_the_same_as_into_a_short_one(
    store: PostgresEventStore, database: Database, tenant: str
) -> None:
    handler = Handler(store)
    short = await a_kpi_with(handler, tenant, 10)
    long = await a_kpi_with(handler, tenant, 100_000)

    short_cost = await seconds_to_record_one(handler, tenant, short)
    long_cost = await seconds_to_record_one(handler, tenant, long)

    kpi = await handler.get(tenant, KPI, long)
    assert kpi.readings == 100_009
    async with database.transaction(tenant, readonly=True) as connection:
        snapshot = await connection.fetchval(
            "SELECT max(version) FROM snapshots WHERE tenant_id = $1 AND stream_id = $2",
            tenant,
            long,
        )
    assert kpi.version - snapshot < SNAPSHOT_EVERY  # what a load replays at most
    print(f"record one: {short_cost * 1000:.1f} ms short, {long_cost * 1000:.1f} ms at 100k")
    assert long_cost < 3 * short_cost + 0.05
