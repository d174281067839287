"""The KPI-link policy's adapters: who follows a KPI, and the readings in the log."""

from __future__ import annotations

from uuid import UUID

from okrledger.domain.kpi import Reading, row_reading
from okrledger.infra.codec import decode
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services.ports import KPILink, LoggedReading, ReadingPage

POLICY = "kpi_link_policy"


class PostgresKPILinks:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def following(self, tenant_id: str, kpi_id: UUID) -> list[KPILink]:
        async with self._db.transaction(tenant_id, readonly=True) as connection:
            rows = await connection.fetch(
                """SELECT objective_id, key_result_id FROM kpi_links
                   WHERE tenant_id = $1 AND kpi_id = $2 ORDER BY objective_id, key_result_id""",
                tenant_id,
                kpi_id,
            )
        # asyncpg's own UUID type would not pass through the event mapper.
        return [
            KPILink(UUID(int=row["objective_id"].int), UUID(int=row["key_result_id"].int))
            for row in rows
        ]


class PostgresReadingLog:
    """Reads KPIReadingRecorded and KPIReadingsRecorded (batch) events from the log; keeps
    the policy's position with the projections' positions."""

    def __init__(self, store: PostgresEventStore, database: Database) -> None:
        self._store = store
        self._db = database

    async def readings_after(self, tenant_id: str, position: int, *, limit: int) -> ReadingPage:
        records = await self._store.read_log(tenant_id, after_position=position, limit=limit)
        readings = []
        for record in records:
            if record.event_type == "KPIReadingRecorded":
                event = decode(record)
                found = [Reading(event.reading_id, event.value, event.observed_at, event.source)]
            elif record.event_type == "KPIReadingsRecorded":
                found = [row_reading(row) for row in decode(record).readings]
            else:
                continue
            kpi_id = UUID(int=record.stream_id.int)
            readings += [
                LoggedReading(record.position, kpi_id, record.command_id, reading)
                for reading in found
            ]
        reached = records[-1].position if records else position
        return ReadingPage(readings, reached)

    async def position(self, tenant_id: str) -> int:
        async with self._db.transaction(tenant_id, readonly=True) as connection:
            position = await connection.fetchval(
                """SELECT position FROM projection_positions
                   WHERE tenant_id = $1 AND projection = $2""",
                tenant_id,
                POLICY,
            )
        return int(position or 0)

    async def advance(self, tenant_id: str, position: int) -> None:
        async with self._db.transaction(tenant_id) as connection:
            await connection.execute(
                """INSERT INTO projection_positions AS p (tenant_id, projection, position)
                   VALUES ($1, $2, $3)
                   ON CONFLICT (tenant_id, projection) DO UPDATE SET position = EXCLUDED.position
                   WHERE p.position < EXCLUDED.position""",
                tenant_id,
                POLICY,
                position,
            )
