"""A run of events applied at once (`apply_many`) leaves the rows the events leave one at a time.

Each log is replayed twice beside the live tables: once the way a rebuild does it (pages of
the log, so runs that span many commands go through the set-based paths) and once event by
event through each projection's own `apply`, the reference.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from okrledger.domain.kpi import Cadence
from okrledger.domain.kpi_health import Direction
from okrledger.domain.objective import Confidence, MetricKind
from okrledger.infra.codec import decode
from okrledger.infra.db import Database, set_tenant
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections
from okrledger.infra.rebuild import drop_schema, replay_until
from okrledger.projections import catalog
from okrledger.projections.base import Projection
from okrledger.services import cycles, key_results, kpis, objectives
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext

OKR_TABLES = {
    "okr_objectives": "objective_id, valid_from_position",
    "okr_key_results": "objective_id, key_result_id, valid_from_position",
    "change_log": "position",
}
KPI_TABLES = {
    "kpi_status": "kpi_id",
    "kpi_readings": "kpi_id, reading_id",
    "kpi_daily": "kpi_id, day",
    "change_log": "position",
}


def ctx(tenant: str, reason: str | None = None) -> CommandContext:
    return CommandContext(tenant, "alice", str(uuid.uuid4()), reason=reason)


def a_handler(database: Database) -> Handler:
    return Handler(PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())]))


async def one_at_a_time(
    owner_dsn: str,
    store: PostgresEventStore,
    tenant: str,
    schema: str,
    projections: Sequence[Projection],
) -> None:
    """Fresh tables in `schema`, filled event by event through `Projection.apply`."""
    await replay_until(owner_dsn, projections, schema, tenant_id=tenant, until_position=0)
    records = await store.read_log(tenant, limit=100_000)
    connection = await asyncpg.connect(owner_dsn)
    try:
        await connection.execute(f"SET search_path TO {schema}, public")
        async with connection.transaction():
            await set_tenant(connection, tenant)
            for record in records:
                for projection in projections:
                    if record.event_type in projection.handles:
                        await projection.apply(connection, record, decode(record))
    finally:
        await connection.close()


async def rows_in(
    owner_dsn: str, tenant: str, schema: str, tables: Mapping[str, str]
) -> dict[str, list[tuple[Any, ...]]]:
    connection = await asyncpg.connect(owner_dsn)
    try:
        async with connection.transaction():
            await set_tenant(connection, tenant)
            return {
                table: [
                    tuple(r.values())
                    for r in await connection.fetch(
                        f"SELECT * FROM {schema}.{table} WHERE tenant_id = $1 ORDER BY {order}",
                        tenant,
                    )
                ]
                for table, order in tables.items()
            }
    finally:
        await connection.close()


async def replayed_both_ways(
    owner_dsn: str, store: PostgresEventStore, tenant: str, tables: Mapping[str, str]
) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, list[tuple[Any, ...]]]]:
    """(rows replayed in pages, rows replayed event by event)."""
    paged, single = f"paged_{uuid.uuid4().hex[:8]}", f"single_{uuid.uuid4().hex[:8]}"
    projections = catalog.projections()
    try:
        await replay_until(
            owner_dsn, projections, paged, tenant_id=tenant, until_position=await store.head(tenant)
        )
        await one_at_a_time(owner_dsn, store, tenant, single, projections)
        return (
            await rows_in(owner_dsn, tenant, paged, tables),
            await rows_in(owner_dsn, tenant, single, tables),
        )
    finally:
        await drop_schema(owner_dsn, paged)
        await drop_schema(owner_dsn, single)


async def test_interleaved_key_result_moves_in_one_run_equal_the_moves_one_at_a_time(
    database: Database, owner_dsn: str, store: PostgresEventStore, tenant: str
) -> None:
    # Given two objectives whose key results are checked in, revised and removed in turn
    handler = a_handler(database)
    cycle = cycles.StartCycle("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    cycle_id = (await cycles.start_cycle(cycle, ctx(tenant), handler)).aggregate.id
    goals: list[tuple[uuid.UUID, list[uuid.UUID]]] = []
    for title in ("Delight customers", "Grow revenue"):
        cmd = objectives.SetObjective(title, cycle_id, owner="support")
        objective_id = (await objectives.set_objective(cmd, ctx(tenant), handler)).aggregate.id
        krs = [uuid.uuid4() for _ in range(3)]
        for n, kr in enumerate(krs):
            add = key_results.AddKeyResult(
                objective_id,
                f"KR {n}",
                MetricKind.NUMBER,
                Decimal(0),
                Decimal(7 + n),
                key_result_id=kr,
            )
            await key_results.add_key_result(add, ctx(tenant), handler)
        goals.append((objective_id, krs))
    for step in range(24):
        objective_id, krs = goals[step % 2]
        kr = krs[step % 3]
        if step == 9:
            revise = key_results.ReviseKeyResult(objective_id, kr, target=Decimal("12.5"))
            moved = ctx(tenant, reason="target moved at the review")
            await key_results.revise_key_result(revise, moved, handler)
        elif step == 17:
            remove = key_results.RemoveKeyResult(objective_id, krs[0])
            await key_results.remove_key_result(remove, ctx(tenant), handler)
        elif not (step > 17 and kr == krs[0]):
            confidence = list(Confidence)[step % 3]
            check_in = key_results.CheckInKeyResult(
                objective_id, kr, round(Decimal(step) / 3, 6), confidence, note=f"week {step // 4}"
            )
            await key_results.check_in_key_result(check_in, ctx(tenant), handler)

    # When the log is replayed in pages and event by event
    paged, single = await replayed_both_ways(owner_dsn, store, tenant, OKR_TABLES)

    # Then both hold the same versions and history entries, and so does the inline model
    assert paged == single
    assert len(paged["okr_key_results"]) > 24
    assert await rows_in(owner_dsn, tenant, "public", OKR_TABLES) == single


async def test_batches_of_readings_in_one_run_equal_the_readings_one_at_a_time(
    database: Database, owner_dsn: str, store: PostgresEventStore, tenant: str
) -> None:
    # Given a KPI fed batches that share days, tie on observed times, arrive out of order,
    # repeat readings of an earlier batch and are interrupted by a correction
    handler = a_handler(database)
    define = kpis.DefineKPI(
        "Conversion", "conv", "%", Direction.HIGHER_IS_BETTER, "sales", Cadence.DAILY
    )
    kpi_id = (await kpis.define_kpi(define, ctx(tenant), handler)).aggregate.id
    start = datetime(2026, 3, 1, 22, tzinfo=UTC)
    ids = [uuid.uuid4() for _ in range(60)]

    def reading(n: int) -> kpis.ReadingInput:
        observed = start + timedelta(hours=(n * 7) % 20)  # several readings per UTC day, ties
        return kpis.ReadingInput(Decimal(n % 11) / 4, observed, "crm", ids[n])

    first = [reading(n) for n in range(0, 40)][::-1]
    await kpis.record_kpi_readings(kpis.RecordKPIReadings(kpi_id, first), ctx(tenant), handler)
    correct = kpis.CorrectKPIReading(kpi_id, ids[5], Decimal("99"), "typo")
    await kpis.correct_kpi_reading(correct, ctx(tenant), handler)
    again = [reading(n) for n in range(30, 60)]
    await kpis.record_kpi_readings(kpis.RecordKPIReadings(kpi_id, again), ctx(tenant), handler)

    # When the log is replayed in pages and event by event
    paged, single = await replayed_both_ways(owner_dsn, store, tenant, KPI_TABLES)

    # Then the readings, the daily rollups and the KPI's latest reading are the same
    assert paged == single
    assert len(paged["kpi_readings"]) == 60
    assert await rows_in(owner_dsn, tenant, "public", KPI_TABLES) == single
