"""KPI read models: versioned definitions, the latest reading, every reading, daily rollups.

`kpis` gets a new version only when the definition or the health changes, so
"the KPI as of p" is one indexed read; `kpi_status` (stream version, latest
reading) changes with every event and is not versioned. A reading is one
statement: it is stored, folded into its UTC day's rollup and, when it is the
latest observed, becomes the KPI's latest value; a run of readings (a batch, a page of
a rebuild) is one statement too. A correction keeps the original,
records itself in `kpi_corrections` and recomputes its day from the raw readings
(a min or max it replaces cannot be undone incrementally).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from okrledger.domain.kpi import ReadingRow
from okrledger.projections import versioned
from okrledger.projections.base import ApplyRun, Item, Rows, apply_in_runs
from okrledger.projections.recorded import RecordedEvent

KPIS = "kpis"
STATUS = "kpi_status"
READINGS = "kpi_readings"
CORRECTIONS = "kpi_corrections"
DAILY = "kpi_daily"
KPI_KEY = ("tenant_id", "kpi_id")
BATCH = "KPIReadingsRecorded"

Apply = Callable[[Rows, RecordedEvent, Any], Awaitable[None]]

# A run of readings in one statement, as if recorded one at a time: each day's rollup and
# each KPI's latest reading fold the run in with the same rules (ties on observed time keep
# the reading recorded first: by position, then by its place in a batch), and only readings
# not stored before count. Reading ids, values and times come as text (a batch event holds
# them so) and PostgreSQL parses them.
_RECORD_READINGS = """
WITH batch AS (
    SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::bigint[], $8::timestamptz[], $9::int[], $10::text[], $11::text[],
                         $12::int[])
        AS b(kpi_id, reading_id, value, observed_at, source, position, recorded_at, version,
             run_id, client, seq)
), reading AS (
    INSERT INTO kpi_readings (tenant_id, kpi_id, reading_id, value, original_value,
                              observed_at, source, position, recorded_at, run_id, client, seq)
    SELECT $1, kpi_id, reading_id::uuid, value::numeric, value::numeric,
           observed_at::timestamptz, source, position, recorded_at, run_id, client, seq
    FROM batch ORDER BY position, seq
    ON CONFLICT DO NOTHING
    RETURNING tenant_id, kpi_id, reading_id, value, observed_at, position, seq
), days AS (
    SELECT tenant_id, kpi_id, (observed_at AT TIME ZONE 'UTC')::date AS day, count(*) AS count,
           sum(value) AS sum, min(value) AS min, max(value) AS max,
           (array_agg(value ORDER BY observed_at, position, seq))[1] AS first_value,
           min(observed_at) AS first_observed_at,
           (array_agg(position ORDER BY observed_at, position, seq))[1] AS first_position,
           (array_agg(value ORDER BY observed_at DESC, position, seq))[1] AS last_value,
           max(observed_at) AS last_observed_at,
           (array_agg(position ORDER BY observed_at DESC, position, seq))[1] AS last_position
    FROM reading GROUP BY tenant_id, kpi_id, day
), daily AS (
    INSERT INTO kpi_daily AS d (tenant_id, kpi_id, day, count, sum, min, max,
                                first_value, first_observed_at, first_position,
                                last_value, last_observed_at, last_position)
    SELECT tenant_id, kpi_id, day, count, sum, min, max, first_value, first_observed_at,
           first_position, last_value, last_observed_at, last_position
    FROM days
    ON CONFLICT (tenant_id, kpi_id, day) DO UPDATE SET
        count = d.count + EXCLUDED.count,
        sum = d.sum + EXCLUDED.sum,
        min = least(d.min, EXCLUDED.min),
        max = greatest(d.max, EXCLUDED.max),
        first_value = CASE WHEN EXCLUDED.first_observed_at < d.first_observed_at
                           THEN EXCLUDED.first_value ELSE d.first_value END,
        first_position = CASE WHEN EXCLUDED.first_observed_at < d.first_observed_at
                              THEN EXCLUDED.first_position ELSE d.first_position END,
        first_observed_at = least(d.first_observed_at, EXCLUDED.first_observed_at),
        last_value = CASE WHEN EXCLUDED.last_observed_at > d.last_observed_at
                          THEN EXCLUDED.last_value ELSE d.last_value END,
        last_position = CASE WHEN EXCLUDED.last_observed_at > d.last_observed_at
                             THEN EXCLUDED.last_position ELSE d.last_position END,
        last_observed_at = greatest(d.last_observed_at, EXCLUDED.last_observed_at)
), latest AS (
    SELECT DISTINCT ON (kpi_id) kpi_id, reading_id, value, observed_at
    FROM reading ORDER BY kpi_id, observed_at DESC, position, seq
), counted AS (
    SELECT kpi_id, count(*) AS count, max(position) AS position FROM reading GROUP BY kpi_id
), event AS (
    SELECT DISTINCT position, version, recorded_at FROM batch
)
UPDATE kpi_status s SET
    reading_count = s.reading_count + c.count,
    latest_reading_id = CASE WHEN s.latest_observed_at IS NULL
                                  OR l.observed_at > s.latest_observed_at
                             THEN l.reading_id ELSE s.latest_reading_id END,
    latest_value = CASE WHEN s.latest_observed_at IS NULL OR l.observed_at > s.latest_observed_at
                        THEN l.value ELSE s.latest_value END,
    latest_observed_at = greatest(s.latest_observed_at, l.observed_at),
    version = b.version, updated_position = b.position, updated_at = b.recorded_at
FROM counted c
JOIN latest l ON l.kpi_id = c.kpi_id
JOIN event b ON b.position = c.position
WHERE s.tenant_id = $1 AND s.kpi_id = c.kpi_id
"""

_CORRECT_READING = """
WITH fixed AS (
    UPDATE kpi_readings SET value = $4, corrected_position = $5, corrected_at = $6,
                            corrections = corrections + 1
    WHERE tenant_id = $1 AND kpi_id = $2 AND reading_id = $3
    RETURNING tenant_id, kpi_id, reading_id
)
INSERT INTO kpi_corrections (tenant_id, position, kpi_id, reading_id, value, previous_value,
                             reason, actor, recorded_at)
SELECT tenant_id, $5, kpi_id, reading_id, $4, $7, $8, $9, $6 FROM fixed
"""

# The day of a corrected reading, from its raw readings; when and which reading is first
# or last does not change with a value, so only the values are recomputed.
_RECOMPUTE_DAY = """
UPDATE kpi_daily d SET sum = a.sum, min = a.min, max = a.max,
    first_value = a.first_value, last_value = a.last_value
FROM (SELECT sum(value) AS sum, min(value) AS min, max(value) AS max,
             (array_agg(value ORDER BY observed_at, position, seq))[1] AS first_value,
             (array_agg(value ORDER BY observed_at DESC, position, seq))[1] AS last_value
      FROM kpi_readings
      WHERE tenant_id = $1 AND kpi_id = $2
        AND observed_at >= $3::date::timestamp AT TIME ZONE 'UTC'
        AND observed_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC') a
WHERE d.tenant_id = $1 AND d.kpi_id = $2 AND d.day = $3
"""

_STATUS_AFTER_CORRECTION = """
UPDATE kpi_status SET
    latest_value = CASE WHEN latest_reading_id = $3 THEN $4 ELSE latest_value END,
    version = $5, updated_position = $6, updated_at = $7
WHERE tenant_id = $1 AND kpi_id = $2 AND updated_position < $6
"""

_STATUS_VERSION = """
UPDATE kpi_status SET version = $3, updated_position = $4, updated_at = $5
WHERE tenant_id = $1 AND kpi_id = $2 AND updated_position < $4
"""


async def _defined(rows: Rows, record: RecordedEvent, e: Any) -> None:
    await versioned.add(
        rows,
        KPIS,
        record,
        {
            "tenant_id": record.tenant_id,
            "kpi_id": record.stream_id,
            "name": e.name,
            "key": e.key,
            "unit": e.unit,
            "direction": e.direction.value,
            "area": e.area,
            "cadence": e.cadence.value,
            "target": e.target,
            "green": e.green,
            "yellow": e.yellow,
            "retired": False,
            "health": None,
            "defined_position": record.position,
            "defined_at": record.recorded_at,
        },
    )
    await rows.execute(
        """INSERT INTO kpi_status (tenant_id, kpi_id, version, reading_count,
                                   updated_position, updated_at)
           VALUES ($1, $2, $3, 0, $4, $5) ON CONFLICT DO NOTHING""",
        record.tenant_id,
        record.stream_id,
        record.version,
        record.position,
        record.recorded_at,
    )


def _definition_change(changes: Callable[[Any], Mapping[str, Any]]) -> Apply:
    async def apply(rows: Rows, record: RecordedEvent, e: Any) -> None:
        old = await versioned.current(rows, KPIS, _key(record))
        if old is None or versioned.already_applied(old, record):
            return
        await versioned.replace(rows, KPIS, KPI_KEY, record, old, changes(e))
        await _bump_version(rows, record)

    return apply


def _revised(e: Any) -> dict[str, Any]:
    fields = {
        "name": e.name,
        "unit": e.unit,
        "direction": None if e.direction is None else e.direction.value,
        "area": e.area,
        "cadence": None if e.cadence is None else e.cadence.value,
    }
    return {column: value for column, value in fields.items() if value is not None}


async def _reading_recorded(rows: Rows, record: RecordedEvent, e: Any) -> None:
    await _readings_recorded(rows, [(record, e)])


async def _batch_recorded(rows: Rows, record: RecordedEvent, e: Any) -> None:
    await _readings_recorded(rows, [(record, e)])


async def _readings_recorded(rows: Rows, items: Sequence[Item]) -> None:
    """A run of KPIReadingRecorded and KPIReadingsRecorded events, reading by reading."""
    kpi_ids: list[Any] = []
    reading_ids: list[str] = []
    values: list[str] = []
    observed: list[str] = []
    sources: list[str | None] = []
    positions: list[int] = []
    recorded_at: list[datetime] = []
    versions: list[int] = []
    run_ids: list[str | None] = []
    clients: list[str | None] = []
    seqs: list[int] = []
    for record, e in items:
        if record.event_type == BATCH:
            batch: Sequence[ReadingRow] = e.readings
            n = len(batch)
            reading_ids += [r["reading_id"] for r in batch]  # type: ignore[misc]
            values += [r["value"] for r in batch]  # type: ignore[misc]
            observed += [r["observed_at"] for r in batch]  # type: ignore[misc]
            sources += [r["source"] for r in batch]
            run_ids += [r["run_id"] for r in batch]
            clients += [e.client] * n
            seqs += range(n)
        else:
            n = 1
            reading_ids.append(str(e.reading_id))
            values.append(str(e.value))
            observed.append(e.observed_at.isoformat())
            sources.append(e.source)
            run_ids.append(e.run_id)
            clients.append(e.client)
            seqs.append(0)
        kpi_ids += [record.stream_id] * n
        positions += [record.position] * n
        recorded_at += [record.recorded_at] * n
        versions += [record.version] * n
    await rows.execute(
        _RECORD_READINGS,
        items[0][0].tenant_id,
        kpi_ids,
        reading_ids,
        values,
        observed,
        sources,
        positions,
        recorded_at,
        versions,
        run_ids,
        clients,
        seqs,
    )


async def _reading_corrected(rows: Rows, record: RecordedEvent, e: Any) -> None:
    reading = await rows.fetchrow(
        """SELECT value, observed_at, position, corrected_position FROM kpi_readings
           WHERE tenant_id = $1 AND kpi_id = $2 AND reading_id = $3""",
        record.tenant_id,
        record.stream_id,
        e.reading_id,
    )
    if reading is None or (reading["corrected_position"] or 0) >= record.position:
        return
    await rows.execute(
        _CORRECT_READING,
        record.tenant_id,
        record.stream_id,
        e.reading_id,
        e.value,
        record.position,
        record.recorded_at,
        reading["value"],
        e.reason,
        record.actor,
    )
    await rows.execute(
        _RECOMPUTE_DAY,
        record.tenant_id,
        record.stream_id,
        _utc_day(reading["observed_at"]),
    )
    await rows.execute(
        _STATUS_AFTER_CORRECTION,
        record.tenant_id,
        record.stream_id,
        e.reading_id,
        e.value,
        record.version,
        record.position,
        record.recorded_at,
    )


async def _bump_version(rows: Rows, record: RecordedEvent) -> None:
    await rows.execute(
        _STATUS_VERSION,
        record.tenant_id,
        record.stream_id,
        record.version,
        record.position,
        record.recorded_at,
    )


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _key(record: RecordedEvent) -> dict[str, Any]:
    return {"tenant_id": record.tenant_id, "kpi_id": record.stream_id}


def _health(e: Any) -> dict[str, Any]:
    return {"health": None if e.to_health is None else e.to_health.value}


_APPLY: dict[str, Apply] = {
    "KPIDefined": _defined,
    "KPIRevised": _definition_change(_revised),
    "KPITargetSet": _definition_change(lambda e: {"target": e.target}),
    "KPIBandsSet": _definition_change(lambda e: {"green": e.green, "yellow": e.yellow}),
    "KPIRetired": _definition_change(lambda e: {"retired": True}),
    "KPIHealthChanged": _definition_change(_health),
    "KPIReadingRecorded": _reading_recorded,
    BATCH: _batch_recorded,
    "KPIReadingCorrected": _reading_corrected,
}


_RUNS: dict[str, ApplyRun] = {
    "KPIReadingRecorded": _readings_recorded,
    BATCH: _readings_recorded,
}


class KPIHistory:
    """KPI definitions (versioned), status, readings, corrections and daily rollups
    (see 0011_kpi_history.sql)."""

    name = "kpi_history"
    handles = frozenset(_APPLY)
    tables: tuple[str, ...] = (KPIS, STATUS, READINGS, CORRECTIONS, DAILY)

    async def apply(self, rows: Rows, record: RecordedEvent, event: Any) -> None:
        await _APPLY[record.event_type](rows, record, event)

    async def apply_many(self, rows: Rows, items: Sequence[Item]) -> None:
        await apply_in_runs(rows, items, self.apply, _RUNS)
