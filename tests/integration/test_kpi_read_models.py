"""The KPI read models through the services on a real PostgreSQL: a KPI now and as of a
past moment, lists, readings with their corrections, and bucketed history."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from okrledger.domain.errors import InvalidValue
from okrledger.domain.kpi import Cadence
from okrledger.domain.kpi_health import Bands, Direction, Health
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections
from okrledger.projections import catalog
from okrledger.projections.history_queries import stream_history
from okrledger.projections.kpi_queries import (
    Aggregate,
    Bucket,
    corrections,
    kpi_history,
    kpi_view,
    kpis,
    readings,
)
from okrledger.projections.pages import AsOf
from okrledger.services import kpis as commands
from okrledger.services.handling import Handler
from okrledger.services.kpis import BandsInput, ReadingInput
from okrledger.services.ports import CommandContext

MONDAY = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday, midnight UTC


@pytest.fixture
def handler(database: Database) -> Handler:
    return Handler(PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())]))


def ctx(tenant: str) -> CommandContext:
    return CommandContext(tenant, "alice", str(uuid.uuid4()))


@asynccontextmanager
async def reading(database: Database, tenant: str) -> AsyncIterator[Any]:
    async with database.transaction(tenant, readonly=True) as rows:
        yield rows


async def a_kpi(
    handler: Handler, tenant: str, *, area: str = "sales", bands: bool = True, key: str = "conv"
) -> uuid.UUID:
    cmd = commands.DefineKPI(
        "Conversion rate",
        key,
        "%",
        Direction.HIGHER_IS_BETTER,
        area,
        Cadence.DAILY,
        Decimal(4),
        BandsInput(Decimal(3), Decimal(2)) if bands else None,
    )
    return (await commands.define_kpi(cmd, ctx(tenant), handler)).aggregate.id


async def record(
    handler: Handler, tenant: str, kpi_id: uuid.UUID, *points: tuple[datetime, str]
) -> list[uuid.UUID]:
    batch = [ReadingInput(Decimal(value), at, "crm", uuid.uuid4()) for at, value in points]
    done = await commands.record_kpi_readings(
        commands.RecordKPIReadings(kpi_id, batch), ctx(tenant), handler
    )
    return done.recorded


async def correct(
    handler: Handler, tenant: str, kpi_id: uuid.UUID, reading_id: uuid.UUID, value: str
) -> int:
    cmd = commands.CorrectKPIReading(kpi_id, reading_id, Decimal(value), "typo in the sheet")
    return (await commands.correct_kpi_reading(cmd, ctx(tenant), handler)).position


async def test_a_defined_kpi_reads_back_with_its_definition_and_no_readings(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)

    async with reading(database, tenant) as rows:
        view = await kpi_view(rows, kpi_id)

    assert view is not None
    assert (view.name, view.key, view.unit, view.area) == ("Conversion rate", "conv", "%", "sales")
    assert view.direction is Direction.HIGHER_IS_BETTER and view.cadence is Cadence.DAILY
    assert view.target == 4 and view.bands == Bands(Decimal(3), Decimal(2))
    assert (view.latest, view.health, view.reading_count, view.version) == (None, None, 0, 1)


async def test_the_latest_observed_reading_gives_the_kpi_its_value_and_health(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    ids = await record(handler, tenant, kpi_id, (MONDAY, "3.5"), (MONDAY - timedelta(days=1), "1"))

    async with reading(database, tenant) as rows:
        view = await kpi_view(rows, kpi_id)

    assert view is not None and view.latest is not None
    assert (view.latest.reading_id, view.latest.value) == (ids[0], Decimal("3.5"))
    assert view.health is Health.GREEN
    assert view.reading_count == 2


async def test_a_correction_keeps_the_original_and_is_listed_with_its_reason(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    [reading_id] = await record(handler, tenant, kpi_id, (MONDAY, "3.5"))
    await correct(handler, tenant, kpi_id, reading_id, "1.5")

    async with reading(database, tenant) as rows:
        [shown] = (await readings(rows, kpi_id)).items
        view = await kpi_view(rows, kpi_id)
        [fix] = await corrections(rows, kpi_id, reading_id)

    assert (shown.value, shown.original_value, shown.corrections) == (
        Decimal("1.5"),
        Decimal("3.5"),
        1,
    )
    assert shown.corrected_at is not None
    assert view is not None and view.latest is not None and view.latest.value == Decimal("1.5")
    assert view.health is Health.RED
    assert (fix.previous_value, fix.value, fix.reason) == (
        Decimal("3.5"),
        Decimal("1.5"),
        "typo in the sheet",
    )


async def test_correcting_a_days_maximum_away_recomputes_that_days_max(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    ids = await record(handler, tenant, kpi_id, (MONDAY, "2"), (MONDAY + timedelta(hours=1), "9"))
    await correct(handler, tenant, kpi_id, ids[1], "1")

    async with reading(database, tenant) as rows:
        day = MONDAY, MONDAY + timedelta(days=1)
        top = await kpi_history(rows, kpi_id, *day, Bucket.DAY, Aggregate.MAX)
        low = await kpi_history(rows, kpi_id, *day, Bucket.DAY, Aggregate.MIN)
        last = await kpi_history(rows, kpi_id, *day, Bucket.DAY, Aggregate.LAST)

    assert [p.value for p in top + low + last] == [2, 1, 1]


async def test_weekly_buckets_start_on_monday_utc(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    sunday_night = MONDAY - timedelta(minutes=1)
    await record(handler, tenant, kpi_id, (sunday_night, "1"), (MONDAY, "3"), (MONDAY, "5"))

    async with reading(database, tenant) as rows:
        found = await kpi_history(
            rows, kpi_id, MONDAY - timedelta(days=14), MONDAY + timedelta(days=14),
            Bucket.WEEK, Aggregate.AVG,
        )  # fmt: skip

    assert [(p.start, p.end, p.value, p.count) for p in found] == [
        (MONDAY - timedelta(days=7), MONDAY, Decimal(1), 1),
        (MONDAY, MONDAY + timedelta(days=7), Decimal(4), 2),
    ]


async def test_last_takes_the_latest_observed_and_of_a_tie_the_reading_recorded_first(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    at = MONDAY + timedelta(hours=5)
    await record(handler, tenant, kpi_id, (at, "7"), (at, "8"), (at - timedelta(hours=1), "9"))

    async with reading(database, tenant) as rows:
        month = await kpi_history(
            rows, kpi_id, MONDAY, MONDAY + timedelta(days=30), Bucket.MONTH, Aggregate.LAST
        )

    assert [(p.start, p.value) for p in month] == [(datetime(2025, 3, 1, tzinfo=UTC), Decimal(7))]


async def test_a_range_that_cuts_days_counts_only_the_readings_inside_it(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    hours = [MONDAY + timedelta(hours=h) for h in range(0, 72, 6)]  # 3 days, 4 a day
    await record(handler, tenant, kpi_id, *[(at, "1") for at in hours])

    async with reading(database, tenant) as rows:
        start, end = MONDAY + timedelta(hours=7), MONDAY + timedelta(hours=61)
        by_day = await kpi_history(rows, kpi_id, start, end, Bucket.DAY, Aggregate.COUNT)
        by_hour = await kpi_history(rows, kpi_id, start, end, Bucket.HOUR, Aggregate.COUNT)

    assert [p.count for p in by_day] == [2, 4, 3]
    assert len(by_hour) == 9 and {p.end - p.start for p in by_hour} == {timedelta(hours=1)}


async def test_history_refuses_a_range_that_ends_before_it_starts(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    async with reading(database, tenant) as rows:
        with pytest.raises(InvalidValue):
            await kpi_history(rows, kpi_id, MONDAY, MONDAY, Bucket.DAY, Aggregate.AVG)


async def test_a_kpi_as_of_a_position_or_time_shows_the_definition_then(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    [first] = await record(handler, tenant, kpi_id, (MONDAY, "3.5"))
    async with reading(database, tenant) as rows:
        before = await kpi_view(rows, kpi_id)
    revised = await commands.revise_kpi(
        commands.ReviseKPI(kpi_id, name="Checkout conversion"), ctx(tenant), handler
    )
    await commands.set_kpi_bands(
        commands.SetKPIBands(kpi_id, BandsInput(Decimal(5), Decimal(4))),
        replace(ctx(tenant), reason="Stricter"),
        handler,
    )
    await correct(handler, tenant, kpi_id, first, "4.5")

    async with reading(database, tenant) as rows:
        then = await kpi_view(rows, kpi_id, as_of=AsOf(position=revised.position - 1))
        named = await kpi_view(rows, kpi_id, as_of=AsOf(position=revised.position))
        now = await kpi_view(rows, kpi_id)
        assert before is not None
        by_time = await kpi_view(rows, kpi_id, as_of=AsOf(time=before.updated_at))

    assert then is not None and named is not None and now is not None
    assert (then.name, then.health, then.version) == ("Conversion rate", Health.GREEN, None)
    assert then.latest is not None and then.latest.value == Decimal("3.5")
    assert (named.name, named.bands) == ("Checkout conversion", Bands(Decimal(3), Decimal(2)))
    assert (now.bands, now.health) == (Bands(Decimal(5), Decimal(4)), Health.YELLOW)
    assert by_time is not None and by_time.name == "Conversion rate"


async def test_a_kpi_as_of_a_moment_before_its_first_reading_has_no_latest_reading(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    defined = AsOf(position=await handler.store.head(tenant))
    await record(handler, tenant, kpi_id, (MONDAY, "3"))

    async with reading(database, tenant) as rows:
        view = await kpi_view(rows, kpi_id, as_of=defined)

    assert view is not None and (view.latest, view.reading_count) == (None, 0)


async def test_a_kpi_as_of_before_it_was_defined_is_none(
    handler: Handler, database: Database, tenant: str
) -> None:
    await a_kpi(handler, tenant, key="first")
    kpi_id = await a_kpi(handler, tenant, key="second")
    async with reading(database, tenant) as rows:
        assert await kpi_view(rows, kpi_id, as_of=AsOf(position=1)) is None


async def test_history_as_known_at_a_moment_ignores_later_readings_and_corrections(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    [early] = await record(handler, tenant, kpi_id, (MONDAY, "2"))
    async with reading(database, tenant) as rows:
        known = (await kpi_view(rows, kpi_id)) or pytest.fail("no KPI")
    qbr = AsOf(position=await handler.store.head(tenant))
    await record(handler, tenant, kpi_id, (MONDAY + timedelta(hours=1), "10"))
    await correct(handler, tenant, kpi_id, early, "4")

    async with reading(database, tenant) as rows:
        week = MONDAY, MONDAY + timedelta(days=7)
        then = await kpi_history(rows, kpi_id, *week, Bucket.WEEK, Aggregate.AVG, as_known_at=qbr)
        now = await kpi_history(rows, kpi_id, *week, Bucket.WEEK, Aggregate.AVG)
        listed = (await readings(rows, kpi_id, as_known_at=qbr)).items

    assert [(p.value, p.count) for p in then] == [(Decimal(2), 1)]
    assert [(p.value, p.count) for p in now] == [(Decimal(7), 2)]
    assert [(r.value, r.corrected_at) for r in listed] == [(Decimal(2), None)]
    assert known.reading_count == 1


async def test_kpis_list_by_area_and_health_a_page_at_a_time(
    handler: Handler, database: Database, tenant: str
) -> None:
    red = await a_kpi(handler, tenant, key="red")
    await record(handler, tenant, red, (MONDAY, "1"))
    green = await a_kpi(handler, tenant, key="green")
    await record(handler, tenant, green, (MONDAY, "9"))
    marketing = await a_kpi(handler, tenant, key="mkt", area="marketing", bands=False)

    async with reading(database, tenant) as rows:
        first = await kpis(rows, first=2)
        rest = await kpis(rows, first=2, after=first.end_cursor)
        sales = await kpis(rows, area="sales")
        reds = await kpis(rows, health=Health.RED)

    assert [k.id for k in first.items] == [red, green] and first.has_next_page
    assert [k.id for k in rest.items] == [marketing] and not rest.has_next_page
    assert [k.id for k in sales.items] == [red, green]
    assert [k.id for k in reds.items] == [red]


async def test_readings_page_in_observed_order(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    points = [(MONDAY + timedelta(minutes=5 * (7 - i)), str(i)) for i in range(7)]
    await record(handler, tenant, kpi_id, *points)

    seen: list[Decimal] = []
    cursor = None
    async with reading(database, tenant) as rows:
        while True:
            page = await readings(rows, kpi_id, first=3, after=cursor)
            seen += [r.value for r in page.items]
            cursor = page.end_cursor
            if not page.has_next_page:
                break

    assert seen == [Decimal(i) for i in reversed(range(7))]


async def test_another_tenants_kpis_and_readings_are_invisible(
    handler: Handler, database: Database, tenant: str, other_tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    await record(handler, tenant, kpi_id, (MONDAY, "3"))

    async with reading(database, other_tenant) as rows:
        assert await kpi_view(rows, kpi_id) is None
        assert (await kpis(rows)).items == ()
        assert (await readings(rows, kpi_id)).items == ()
        week = MONDAY, MONDAY + timedelta(days=7)
        assert await kpi_history(rows, kpi_id, *week, Bucket.DAY, Aggregate.COUNT) == []


async def test_the_change_history_names_the_kpi_as_it_was_called_before_each_change(
    handler: Handler, database: Database, tenant: str
) -> None:
    kpi_id = await a_kpi(handler, tenant)
    [reading_id] = await record(handler, tenant, kpi_id, (MONDAY, "3.5"))
    await commands.revise_kpi(commands.ReviseKPI(kpi_id, name="Checkout"), ctx(tenant), handler)
    await correct(handler, tenant, kpi_id, reading_id, "1")

    async with reading(database, tenant) as rows:
        page = await stream_history(rows, kpi_id, newest_first=False)

    summaries = [e.summary for e in page.items]
    assert "KPI 'Conversion rate' revised: name" in summaries
    assert any(s.startswith("KPI 'Checkout': reading") for s in summaries)
    assert "KPI 'Checkout' health moved from GREEN to RED by reading" in " ".join(summaries)
