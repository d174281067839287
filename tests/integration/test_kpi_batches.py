"""Batches of KPI readings on a real PostgreSQL: one event per batch, and everything read
from it the same as if the readings had been recorded one at a time."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from okrledger.domain.kpi import KPI, Cadence, KPIReadingsRefused, ReadingIdTaken
from okrledger.domain.kpi_health import Direction
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.kpi_links import PostgresReadingLog
from okrledger.infra.projector import InlineProjections
from okrledger.projections import catalog
from okrledger.projections.kpi_queries import kpi_view, readings
from okrledger.projections.pages import AsOf
from okrledger.services import kpis
from okrledger.services.handling import Handler
from okrledger.services.kpis import BandsInput, ReadingInput
from okrledger.services.ports import CommandContext

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def live_store(database: Database) -> PostgresEventStore:
    return PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())])


@pytest.fixture
def handler(live_store: PostgresEventStore) -> Handler:
    return Handler(live_store)


def ctx(tenant: str) -> CommandContext:
    return CommandContext(tenant, "crm-sync", str(uuid.uuid4()))


async def a_kpi(handler: Handler, tenant: str, key: str = "conversion") -> uuid.UUID:
    cmd = kpis.DefineKPI(
        "Conversion",
        key,
        "%",
        Direction.HIGHER_IS_BETTER,
        "sales",
        Cadence.DAILY,
        bands=BandsInput(Decimal(3), Decimal(2)),
    )
    return (await kpis.define_kpi(cmd, ctx(tenant), handler)).aggregate.id


async def record(
    handler: Handler, tenant: str, kpi_id: uuid.UUID, batch: list[ReadingInput]
) -> kpis.RecordedReadings:
    return await kpis.record_kpi_readings(
        kpis.RecordKPIReadings(kpi_id, batch), ctx(tenant), handler
    )


def points(*values: str, reading_ids: list[uuid.UUID] | None = None) -> list[ReadingInput]:
    ids = reading_ids or [uuid.uuid4() for _ in values]
    return [
        ReadingInput(Decimal(v), NOW - timedelta(minutes=len(values) - i), "crm", ids[i])
        for i, v in enumerate(values)
    ]


async def test_a_batch_of_readings_is_one_event(
    handler: Handler, live_store: PostgresEventStore, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)

    await record(handler, tenant, kpi_id, points("1", "2", "2.5"))

    types = [e.event_type for e in await live_store.read_stream(tenant, kpi_id)]
    health = "KPIHealthChanged"  # none to red by the first, red to yellow by the second
    assert types == ["KPIDefined", "KPIReadingsRecorded", health, health]


async def test_a_batch_repeating_an_earlier_batch_records_only_its_new_readings(
    handler: Handler, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    earlier = points("1", "2")
    await record(handler, tenant, kpi_id, earlier)
    again = [*earlier, *points("3", "4")]

    result = await record(handler, tenant, kpi_id, again)

    assert result.repeated == [r.reading_id for r in earlier]
    assert result.recorded == [r.reading_id for r in again[2:]]
    assert (await handler.get(tenant, KPI, kpi_id)).readings == 4


async def test_a_batch_holding_a_reading_id_of_another_kpi_records_nothing_and_says_which(
    handler: Handler, live_store: PostgresEventStore, tenant: str
) -> None:
    first, second = await a_kpi(handler, tenant, "nps"), await a_kpi(handler, tenant, "cac")
    theirs = points("1", "2")
    await record(handler, tenant, first, theirs)
    head = await live_store.head(tenant)

    with pytest.raises(KPIReadingsRefused) as refused:
        await record(handler, tenant, second, [*points("5", "6"), theirs[1]])

    assert [(r.index, type(r.error)) for r in refused.value.refusals] == [(2, ReadingIdTaken)]
    assert await live_store.head(tenant) == head


async def test_health_moves_within_a_batch_as_it_would_reading_by_reading(
    handler: Handler, live_store: PostgresEventStore, tenant: str
) -> None:
    one_by_one, batched = await a_kpi(handler, tenant, "single"), await a_kpi(handler, tenant)
    values = ("1", "2.5", "2.6", "4", "1.5", "3")
    singles, batch = points(*values), points(*values)
    for reading in singles:
        await record(handler, tenant, one_by_one, [reading])
    await record(handler, tenant, batched, batch)

    async def moves(kpi_id: uuid.UUID, sent: list[ReadingInput]) -> list[tuple[object, ...]]:
        index = {r.reading_id: i for i, r in enumerate(sent)}
        return [
            (body["from_health"], body["to_health"], index[uuid.UUID(body["reading_id"]["_data_"])])
            for e in await live_store.read_stream(tenant, kpi_id)
            if e.event_type == "KPIHealthChanged" and (body := json.loads(e.payload))
        ]

    assert await moves(one_by_one, singles) == await moves(batched, batch)
    a, b = await handler.get(tenant, KPI, one_by_one), await handler.get(tenant, KPI, batched)
    assert (a.health, a.latest_value, a.readings) == (b.health, b.latest_value, b.readings)


async def test_readings_of_one_moment_in_a_batch_page_and_tie_in_batch_order(
    handler: Handler, live_store: PostgresEventStore, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    batch = [ReadingInput(Decimal(i), NOW, "crm", uuid.uuid4()) for i in range(5)]
    await record(handler, tenant, kpi_id, batch)

    seen: list[uuid.UUID] = []
    after = None
    async with database.transaction(tenant, readonly=True) as rows:
        while True:
            page = await readings(rows, kpi_id, first=2, after=after)
            seen += [r.reading_id for r in page.items]
            if not page.has_next_page:
                break
            after = page.end_cursor
        now = await kpi_view(rows, kpi_id)
        then = await kpi_view(rows, kpi_id, as_of=AsOf(position=await live_store.head(tenant)))
    assert seen == [r.reading_id for r in batch]
    for view in (now, then):
        assert view is not None and view.latest is not None
        assert view.latest.reading_id == batch[0].reading_id


async def test_the_link_policy_catch_up_reads_every_reading_of_a_batch(
    handler: Handler, live_store: PostgresEventStore, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    batch = points("1", "2", "3")
    await record(handler, tenant, kpi_id, batch)

    page = await PostgresReadingLog(live_store, database).readings_after(tenant, 0, limit=100)

    assert [(r.kpi_id, r.reading.reading_id, r.reading.value) for r in page.readings] == [
        (kpi_id, r.reading_id, r.value) for r in batch
    ]
