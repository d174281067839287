"""A reading id names one reading, through services/ on a real PostgreSQL: the same
reading sent again records nothing; another reading with that id (value, time, source or
KPI) is refused with READING_ID_REUSED, alone, in a batch, or racing the first."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import pytest

from okrledger.domain.kpi import KPI, Cadence, KPIReadingsRefused, ReadingIdReused
from okrledger.domain.kpi_health import Direction
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services import kpis
from okrledger.services.handling import Handler
from okrledger.services.kpis import ReadingInput
from okrledger.services.ports import CommandContext

AT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def handler(store: PostgresEventStore) -> Handler:
    return Handler(store)


def ctx(tenant: str) -> CommandContext:
    return CommandContext(tenant, "crm-sync", str(uuid.uuid4()))


async def a_kpi(handler: Handler, tenant: str, key: str = "conversion-rate") -> uuid.UUID:
    cmd = kpis.DefineKPI("Conversion", key, "%", Direction.HIGHER_IS_BETTER, "sales", Cadence.DAILY)
    return (await kpis.define_kpi(cmd, ctx(tenant), handler)).aggregate.id


async def record(
    handler: Handler,
    tenant: str,
    kpi_id: uuid.UUID,
    reading_id: uuid.UUID,
    value: str = "2.5",
    at: datetime = AT,
    source: str | None = "crm",
) -> kpis.RecordedReadings:
    cmd = kpis.RecordKPIReading(kpi_id, Decimal(value), at, source, reading_id)
    return await kpis.record_kpi_reading(cmd, ctx(tenant), handler)


async def test_the_same_reading_sent_again_from_another_run_records_nothing(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    kpi_id, reading_id = await a_kpi(handler, tenant), uuid.uuid4()
    await record(handler, tenant, kpi_id, reading_id)
    head = await store.head(tenant)
    again = kpis.RecordKPIReading(
        kpi_id, Decimal("2.50"), AT.astimezone(), " crm ", reading_id, run_id="later run"
    )

    result = await kpis.record_kpi_reading(again, ctx(tenant), handler)

    assert (result.recorded, result.repeated) == ([], [reading_id])
    assert await store.head(tenant) == head


@pytest.mark.parametrize(
    "other",
    [
        {"value": "9.9"},
        {"at": AT + timedelta(minutes=1)},
        {"source": "erp"},
        {"source": None},
    ],
    ids=["value", "time", "source", "no source"],
)
async def test_another_reading_with_a_used_id_is_refused_and_the_first_stays(
    handler: Handler, store: PostgresEventStore, tenant: str, other: dict[str, object]
) -> None:
    kpi_id, reading_id = await a_kpi(handler, tenant), uuid.uuid4()
    await record(handler, tenant, kpi_id, reading_id)
    head = await store.head(tenant)

    with pytest.raises(ReadingIdReused) as refused:
        await record(handler, tenant, kpi_id, reading_id, **other)  # type: ignore[arg-type]

    assert (refused.value.code, refused.value.field) == ("READING_ID_REUSED", "reading_id")
    assert await store.head(tenant) == head
    kpi = await handler.get(tenant, KPI, kpi_id)
    assert (kpi.latest_reading_id, kpi.latest_value) == (reading_id, Decimal("2.5"))


async def test_a_batch_sent_again_records_nothing_and_one_changed_reading_refuses_it_whole(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    batch = [
        ReadingInput(Decimal(n), AT - timedelta(minutes=n), "crm", uuid.uuid4()) for n in range(3)
    ]
    await kpis.record_kpi_readings(kpis.RecordKPIReadings(kpi_id, batch), ctx(tenant), handler)
    head = await store.head(tenant)

    again = await kpis.record_kpi_readings(
        kpis.RecordKPIReadings(kpi_id, batch), ctx(tenant), handler
    )
    last = batch[2]
    changed = [*batch[:2], ReadingInput(Decimal(7), last.observed_at, "crm", last.reading_id)]
    with pytest.raises(KPIReadingsRefused) as refused:
        await kpis.record_kpi_readings(
            kpis.RecordKPIReadings(kpi_id, [*changed, ReadingInput(Decimal(1), AT)]),
            ctx(tenant),
            handler,
        )

    assert (again.recorded, again.repeated) == ([], [r.reading_id for r in batch])
    assert [(r.index, r.error.code) for r in refused.value.refusals] == [(2, "READING_ID_REUSED")]
    assert await store.head(tenant) == head


async def test_two_readings_with_one_id_at_once_record_one_and_refuse_the_other(
    handler: Handler, store: PostgresEventStore, tenant: str
) -> None:
    kpi_id, reading_id = await a_kpi(handler, tenant), uuid.uuid4()

    answers = await asyncio.gather(
        record(handler, tenant, kpi_id, reading_id, "1"),
        record(handler, tenant, kpi_id, reading_id, "2"),
        return_exceptions=True,
    )

    recorded = [a for a in answers if isinstance(a, kpis.RecordedReadings)]
    assert [r.recorded for r in recorded] == [[reading_id]]
    assert [type(a) for a in answers if isinstance(a, Exception)] == [ReadingIdReused]
    history = await store.read_stream(tenant, kpi_id)
    assert [e.event_type for e in history].count("KPIReadingRecorded") == 1


async def test_another_kpis_reading_id_is_refused_as_reused(handler: Handler, tenant: str) -> None:
    first, second = await a_kpi(handler, tenant, "one"), await a_kpi(handler, tenant, "two")
    reading_id = uuid.uuid4()
    await record(handler, tenant, first, reading_id)

    with pytest.raises(ReadingIdReused) as refused:
        await record(handler, tenant, second, reading_id)

    assert refused.value.code == "READING_ID_REUSED"


async def test_a_reading_recorded_before_sources_were_kept_with_its_id_is_skipped_as_before(
    handler: Handler, store: PostgresEventStore, owner_dsn: str, tenant: str
) -> None:
    kpi_id, reading_id = await a_kpi(handler, tenant), uuid.uuid4()
    await record(handler, tenant, kpi_id, reading_id)
    owner = await asyncpg.connect(owner_dsn)
    try:  # the claim as it was written before this change: value and time only
        async with owner.transaction():
            await owner.execute("SELECT set_config('okrledger.tenant_id', $1, true)", tenant)
            await owner.execute(
                "UPDATE claims SET data = data - 'source' WHERE tenant_id = $1 AND key = $2",
                tenant,
                str(reading_id),
            )
    finally:
        await owner.close()
    head = await store.head(tenant)

    again = await record(handler, tenant, kpi_id, reading_id, source="erp")

    assert (again.recorded, again.repeated) == ([], [reading_id])
    assert await store.head(tenant) == head
