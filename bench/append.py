"""Event append: our asyncpg store against eventsourcing's PostgreSQL recorder and raw INSERTs.

Eight writers, one event per command, each writer on its own stream; once with the
writers on eight tenants and once all in one tenant (where positions serialise them).
The peers run in the same process, on the same database, with the same payload size.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.database import bench_database, libpq_parts
from bench.stats import Result, summarise
from okrledger.infra.db import Database, app_dsn
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services.ports import CommandContext

WRITERS = 8
NOTE = "Reading of a meter " * 6  # ~110 bytes of payload, like a check-in note


class Meter(Aggregate):
    @event("MeterInstalled")
    def __init__(self, label: str) -> None:
        self.label = label
        self.readings = 0

    @event("MeterRead")
    def read(self, value: int, note: str) -> None:
        self.readings += 1


Timed = Callable[[], Awaitable[None]]


async def _run_writers(writers: list[Timed], per_writer: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def loop(write: Timed) -> None:
        for _ in range(per_writer):
            began = time.perf_counter()
            await write()
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(loop(w) for w in writers))
    return len(writers) * per_writer / (time.perf_counter() - began), latencies


def _store_writer(store: PostgresEventStore, meter: Meter, tenant: str) -> Timed:
    async def write() -> None:
        meter.read(value=1, note=NOTE)
        context = CommandContext(tenant, "bench", uuid.uuid4().hex)
        await store.append(context, meter.collect_events())

    return write


def _raw_writer(connection: asyncpg.Connection, payload: str) -> Timed:
    stream, version = uuid.uuid4(), 0

    async def write() -> None:
        nonlocal version
        version += 1
        await connection.execute(
            "INSERT INTO bench_raw VALUES ($1, $2, $3::jsonb)", stream, version, payload
        )

    return write


async def ours(
    dsn: str, *, tenants: int, per_writer: int, runs: int
) -> tuple[list[float], list[float]]:
    database = await Database.connect(app_dsn(dsn), min_size=WRITERS, max_size=WRITERS)
    store = PostgresEventStore(database)
    prefix = uuid.uuid4().hex[:6]
    rates, latencies = [], []
    try:
        for _ in range(runs):
            writers = []
            for index in range(WRITERS):
                tenant = f"b{prefix}-{index % tenants}"
                meter = Meter(label=f"m{index}")
                await store.append(
                    CommandContext(tenant, "bench", uuid.uuid4().hex), meter.collect_events()
                )

                writers.append(_store_writer(store, meter, tenant))
            rate, lat = await _run_writers(writers, per_writer)
            rates.append(rate)
            latencies.extend(lat)
    finally:
        await database.close()
    return rates, latencies


async def raw_insert(dsn: str, *, per_writer: int, runs: int) -> tuple[list[float], list[float]]:
    setup = await asyncpg.connect(dsn)
    await setup.execute(
        """CREATE TABLE IF NOT EXISTS bench_raw (
               stream_id uuid, version int, payload jsonb, PRIMARY KEY (stream_id, version))"""
    )
    await setup.close()
    connections = [await asyncpg.connect(dsn) for _ in range(WRITERS)]
    payload = f'{{"value": 1, "note": "{NOTE}"}}'
    rates, latencies = [], []
    try:
        for _ in range(runs):
            writers = []
            for connection in connections:
                writers.append(_raw_writer(connection, payload))
            rate, lat = await _run_writers(writers, per_writer)
            rates.append(rate)
            latencies.extend(lat)
    finally:
        for connection in connections:
            await connection.close()
    return rates, latencies


def eventsourcing_recorder(
    dsn: str, *, per_writer: int, runs: int
) -> tuple[list[float], list[float]]:
    """eventsourcing's own Application.save on its psycopg recorder, from eight threads."""
    parts = libpq_parts(dsn)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts["dbname"],
        "POSTGRES_HOST": parts["host"],
        "POSTGRES_PORT": parts["port"],
        "POSTGRES_USER": parts["user"],
        "POSTGRES_PASSWORD": parts["password"],
        "POSTGRES_POOL_SIZE": str(WRITERS),
        "POSTGRES_MAX_OVERFLOW": "0",
    }
    application: Application[uuid.UUID] = Application(env=env)
    rates, latencies = [], []
    lock = threading.Lock()
    try:
        for _ in range(runs):
            meters = [Meter(label=f"m{i}") for i in range(WRITERS)]
            for meter in meters:
                application.save(meter)
            run_latencies: list[float] = []

            def loop(meter: Meter, run_latencies: list[float] = run_latencies) -> None:
                mine = []
                for _ in range(per_writer):
                    began = time.perf_counter()
                    meter.read(value=1, note=NOTE)
                    application.save(meter)
                    mine.append(time.perf_counter() - began)
                with lock:
                    run_latencies.extend(mine)

            threads = [threading.Thread(target=loop, args=(m,)) for m in meters]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            rates.append(WRITERS * per_writer / (time.perf_counter() - began))
            latencies.extend(run_latencies)
    finally:
        application.close()
    return rates, latencies


async def run(quick: bool = False) -> list[Result]:
    per_writer, runs = (50, 3) if quick else (250, 5)
    async with bench_database() as dsn:
        raw_rates, raw_lat = await raw_insert(dsn, per_writer=per_writer, runs=runs)
        many_rates, many_lat = await ours(dsn, tenants=WRITERS, per_writer=per_writer, runs=runs)
        one_rates, one_lat = await ours(dsn, tenants=1, per_writer=per_writer, runs=runs)
        es_rates, es_lat = await asyncio.to_thread(
            eventsourcing_recorder, dsn, per_writer=max(per_writer // 5, 20), runs=runs
        )
    raw = summarise("append", "raw INSERT + COMMIT (asyncpg, 8 connections)", raw_rates, raw_lat)
    peer = summarise(
        "append", "eventsourcing Application.save (psycopg, 8 threads)", es_rates, es_lat
    )
    results = [raw, peer]
    for label, rates, lat, share in (
        ("okrledger store, 8 writers on 8 tenants", many_rates, many_lat, 0.70),
        ("okrledger store, 8 writers in 1 tenant", one_rates, one_lat, 0.40),
    ):
        mine = summarise("append", label, rates, lat)
        vs_raw, vs_peer = mine.rate / raw.rate, mine.rate / peer.rate
        met = vs_raw >= share and vs_peer >= 10
        results.append(
            summarise(
                "append",
                label,
                rates,
                lat,
                target=f"≥ {share:.0%} of raw, ≥ 10x eventsourcing",
                verdict="met" if met else "missed",
                note=f"{vs_raw:.0%} of raw INSERT, {vs_peer:.1f}x eventsourcing",
            )
        )
    return results


if __name__ == "__main__":
    for result in asyncio.run(run(quick=bool(os.environ.get("BENCH_QUICK")))):
        print(result)
