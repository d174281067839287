"""For random KPI command sequences: the KPI read models kept inline equal a rebuild from
the events row for row, history read from the rollups equals the same aggregates
computed from the raw readings, and a KPI as of a position equals a replay stopped there."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import product
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okrledger.domain.errors import DomainError
from okrledger.domain.kpi import Cadence
from okrledger.domain.kpi_health import Direction
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections
from okrledger.infra.rebuild import drop_schema, rebuild, replay_until
from okrledger.projections import catalog
from okrledger.projections.kpi_queries import (
    Aggregate,
    Bucket,
    HistoryPoint,
    ReadingView,
    kpi_history,
    kpi_view,
    readings,
)
from okrledger.projections.pages import AsOf
from okrledger.services import kpis
from okrledger.services.handling import Handler
from okrledger.services.kpis import BandsInput, ReadingInput
from okrledger.services.ports import CommandContext

from .read_models import owner, read_model_rows

TABLES = {
    "kpis": "kpi_id, valid_from_position",
    "kpi_status": "kpi_id",
    "kpi_readings": "kpi_id, reading_id",
    "kpi_corrections": "position",
    "kpi_daily": "kpi_id, day",
    "change_log": "position",
}
ORIGIN = datetime(2025, 1, 1, tzinfo=UTC)  # a Wednesday

# One command: (what, which KPI, a number for values, a number for times).
steps = st.tuples(
    st.sampled_from(
        ["define", "revise", "target", "bands", "no_bands", "retire"]
        + ["correct"] * 3
        + ["read"] * 6
    ),
    st.integers(0, 3),
    st.integers(0, 60),
    st.integers(0, 24 * 70),
)


class Program:
    def __init__(self, handler: Handler, tenant: str) -> None:
        self.handler = handler
        self.tenant = tenant
        self.kpis: list[uuid.UUID] = []
        self.readings: dict[uuid.UUID, list[uuid.UUID]] = {}

    def ctx(self) -> CommandContext:
        return CommandContext(self.tenant, "alice", str(uuid.uuid4()))

    async def run(self, step: tuple[str, int, int, int]) -> None:
        with suppress(DomainError):
            await self._run(*step)

    async def _run(self, what: str, which: int, n: int, hours: int) -> None:
        h, ctx = self.handler, self.ctx()
        cmd: Any  # each branch builds its own command
        kpi = self.kpis[which % len(self.kpis)] if self.kpis else None
        if what == "define" or kpi is None:
            cmd = kpis.DefineKPI(
                f"KPI {len(self.kpis)}",
                f"k{len(self.kpis)}",
                "%",
                Direction.HIGHER_IS_BETTER,
                ["sales", "ops"][n % 2],
                Cadence.HOURLY,
                bands=BandsInput(Decimal(30), Decimal(20)) if n % 3 else None,
            )
            self.kpis.append((await kpis.define_kpi(cmd, ctx, h)).aggregate.id)
        elif what == "revise":
            cmd = kpis.ReviseKPI(kpi, name=f"Renamed {n}", area=["sales", "ops"][n % 2])
            await kpis.revise_kpi(cmd, ctx, h)
        elif what == "target":
            await kpis.set_kpi_target(kpis.SetKPITarget(kpi, Decimal(n)), ctx, h)
        elif what in ("bands", "no_bands"):
            bands = BandsInput(Decimal(n + 10), Decimal(n)) if what == "bands" else None
            await kpis.set_kpi_bands(kpis.SetKPIBands(kpi, bands), ctx, h)
        elif what == "retire" and n % 4 == 0:
            await kpis.retire_kpi(kpis.RetireKPI(kpi), ctx, h)
        elif what == "correct" and self.readings.get(kpi):
            held = self.readings[kpi]
            cmd = kpis.CorrectKPIReading(kpi, held[hours % len(held)], Decimal(n) / 4, "fix")
            await kpis.correct_kpi_reading(cmd, ctx, h)
        elif what == "read":
            # Small batches with repeated times, so ties and shared days are common.
            batch = [
                ReadingInput(
                    Decimal(n + i) / 2,
                    ORIGIN + timedelta(hours=(hours + 7 * i) % (24 * 70)),
                    reading_id=uuid.uuid4(),
                )
                for i in range(1 + n % 4)
            ]
            done = await kpis.record_kpi_readings(kpis.RecordKPIReadings(kpi, batch), ctx, h)
            self.readings.setdefault(kpi, []).extend(done.recorded)


@pytest.fixture
def live_handler(database: Database) -> Handler:
    return Handler(PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())]))


async def play(
    handler: Handler, tenant: str, program: Sequence[tuple[str, int, int, int]]
) -> Program:
    runner = Program(handler, tenant)
    for step in [("define", 0, 1, 0), ("read", 0, 3, 5), *program]:
        await runner.run(step)
    return runner


SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(programs=st.lists(st.lists(steps, min_size=10, max_size=40), min_size=2, max_size=3))
async def test_kpi_read_models_kept_inline_equal_a_rebuild_from_the_events_row_for_row(
    live_handler: Handler, owner_dsn: str, programs: list[list[tuple[str, int, int, int]]]
) -> None:
    tenants = [f"k-{uuid.uuid4().hex[:12]}" for _ in programs]
    for tenant, program in zip(tenants, programs, strict=True):
        await play(live_handler, tenant, program)
    inline = [await read_model_rows(owner_dsn, t, TABLES) for t in tenants]

    for tenant in tenants:
        await rebuild(owner_dsn, catalog.projections(), tenant_id=tenant)

    assert [await read_model_rows(owner_dsn, t, TABLES) for t in tenants] == inline
    assert all(rows["kpi_readings"] and rows["kpi_daily"] for rows in inline)


def _bucket_start(moment: datetime, bucket: Bucket) -> datetime:
    moment = moment.astimezone(UTC)
    if bucket is Bucket.HOUR:
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket is Bucket.DAY:
        return day
    if bucket is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def from_raw(
    all_readings: Sequence[tuple[ReadingView, int]],
    start: datetime,
    end: datetime,
    bucket: Bucket,
    aggregate: Aggregate,
) -> list[tuple[datetime, Decimal, int]]:
    """The aggregates of the raw readings, computed here in Python."""
    groups: dict[datetime, list[tuple[ReadingView, int]]] = {}
    for r, order in all_readings:
        if start <= r.observed_at < end:
            groups.setdefault(_bucket_start(r.observed_at, bucket), []).append((r, order))
    return [
        (begins, _aggregate(groups[begins], aggregate), len(groups[begins]))
        for begins in sorted(groups)
    ]


def _aggregate(group: Sequence[tuple[ReadingView, int]], aggregate: Aggregate) -> Decimal:
    values = [r.value for r, _ in group]
    if aggregate is Aggregate.AVG:
        return sum(values, Decimal(0)) / Decimal(len(values))
    if aggregate is Aggregate.MIN:
        return min(values)
    if aggregate is Aggregate.MAX:
        return max(values)
    if aggregate is Aggregate.COUNT:
        return Decimal(len(values))
    # the latest observed; of a tie, the one recorded first
    return min(group, key=lambda ro: (-ro[0].observed_at.timestamp(), ro[1]))[0].value


@SETTINGS
@given(
    program=st.lists(steps, min_size=10, max_size=40),
    edges=st.tuples(st.integers(0, 24 * 70 * 4), st.integers(1, 24 * 70 * 4)),
)
async def test_history_from_the_rollups_equals_the_aggregates_of_the_raw_readings(
    live_handler: Handler,
    database: Database,
    program: list[tuple[str, int, int, int]],
    edges: tuple[int, int],
) -> None:
    tenant = f"r-{uuid.uuid4().hex[:12]}"
    runner = await play(live_handler, tenant, program)
    # Quarter hours, so ranges cut days (and hours) anywhere.
    start = ORIGIN + timedelta(minutes=15 * min(edges))
    end = ORIGIN + timedelta(minutes=15 * max(edges) + 15)

    async with database.transaction(tenant, readonly=True) as rows:
        for kpi_id in runner.kpis:
            page = await readings(rows, kpi_id, first=500)
            order = {
                r["reading_id"]: r["position"]
                for r in await rows.fetch(
                    "SELECT reading_id, position FROM kpi_readings WHERE kpi_id = $1", kpi_id
                )
            }
            raw = [(r, order[r.reading_id]) for r in page.items]
            for bucket, aggregate in product(Bucket, Aggregate):
                found = await kpi_history(rows, kpi_id, start, end, bucket, aggregate)
                assert [(p.start, p.value, p.count) for p in found] == from_raw(
                    raw, start, end, bucket, aggregate
                ), (bucket, aggregate)
                assert all(isinstance(p, HistoryPoint) and p.end > p.start for p in found)


@SETTINGS
@given(program=st.lists(steps, min_size=10, max_size=40), cut=st.floats(0, 1))
async def test_a_kpi_as_of_a_position_equals_a_replay_stopped_at_that_position(
    live_handler: Handler, owner_dsn: str, program: list[tuple[str, int, int, int]], cut: float
) -> None:
    tenant = f"a-{uuid.uuid4().hex[:12]}"
    runner = await play(live_handler, tenant, program)
    position = round(await live_handler.store.head(tenant) * cut)
    schema = f"kpi_as_of_{uuid.uuid4().hex[:8]}"
    try:
        await replay_until(
            owner_dsn, catalog.projections(), schema, tenant_id=tenant, until_position=position
        )
        async with owner(owner_dsn, tenant) as live:
            versioned = [
                await kpi_view(live, k, as_of=AsOf(position=position)) for k in runner.kpis
            ]
        async with owner(owner_dsn, tenant, schema) as replayed:
            replay = [await kpi_view(replayed, k) for k in runner.kpis]
    finally:
        await drop_schema(owner_dsn, schema)

    def comparable(view: Any) -> Any:  # a replay knows the version; an as-of read does not
        return None if view is None else (view.__dict__ | {"version": None})

    assert [comparable(v) for v in versioned] == [comparable(v) for v in replay]
