"""Reading KPIs: one KPI (now or as of a past moment), lists, readings and bucketed history.

Every function takes a `Rows` whose transaction already names the tenant; the SQL
filters on `current_tenant()` so the tenant-led indexes apply and a read costs the
same however much other tenants hold. History over whole UTC days comes from the
daily rollups (a year of weekly buckets is ~365 rows); hours, partial days at the
edges of a range and "as known at" reads come from the raw readings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from okrledger.domain.errors import InvalidValue
from okrledger.domain.kpi import Cadence
from okrledger.domain.kpi_health import Bands, Direction, Health
from okrledger.projections.base import Rows
from okrledger.projections.pages import AsOf, Page, check_page_size, decode_cursor, page_of


class Bucket(Enum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"  # ISO weeks: Monday 00:00 UTC
    MONTH = "month"


class Aggregate(Enum):
    AVG = "AVG"
    MIN = "MIN"
    MAX = "MAX"
    LAST = "LAST"
    COUNT = "COUNT"


@dataclass(frozen=True)
class LatestReading:
    reading_id: UUID
    value: Decimal
    observed_at: datetime


@dataclass(frozen=True)
class KPIView:
    id: UUID
    name: str
    key: str
    unit: str
    direction: Direction
    area: str
    cadence: Cadence
    target: Decimal | None
    bands: Bands | None
    retired: bool
    health: Health | None
    latest: LatestReading | None
    reading_count: int
    # The stream version to pass as expectedVersion; None when read as of a past moment.
    version: int | None
    defined_at: datetime
    # When this version of the definition (or health) began.
    updated_at: datetime


@dataclass(frozen=True)
class ReadingView:
    reading_id: UUID
    # As now corrected (or, read as known at a moment, as it was known then).
    value: Decimal
    original_value: Decimal
    observed_at: datetime
    source: str | None
    recorded_at: datetime
    corrected_at: datetime | None
    corrections: int
    # Who recorded it (the event's actor), the integration run and the client application.
    recorded_by: str | None = None
    run_id: str | None = None
    client: str | None = None


@dataclass(frozen=True)
class CorrectionView:
    reading_id: UUID
    value: Decimal
    previous_value: Decimal
    reason: str
    actor: str
    recorded_at: datetime
    position: int


@dataclass(frozen=True)
class HistoryPoint:
    """One bucket with readings: it spans [start, end) but holds only readings in the range."""

    start: datetime
    end: datetime
    value: Decimal
    count: int


# -- one KPI, and lists ---------------------------------------------------------------


def _valid(alias: str, as_of: AsOf | None, param: int) -> str:
    if as_of is None:
        return f"{alias}.valid_to_position IS NULL"
    unit = "position" if as_of.position is not None else "time"
    return (
        f"{alias}.valid_from_{unit} <= ${param} AND ({alias}.valid_to_{unit} IS NULL"
        f" OR {alias}.valid_to_{unit} > ${param})"
    )


def _moment(as_of: AsOf) -> Any:
    return as_of.position if as_of.position is not None else as_of.time


async def kpi_view(rows: Rows, kpi_id: UUID, *, as_of: AsOf | None = None) -> KPIView | None:
    """The KPI now, or its definition and health as of a past position or recorded time
    (with the latest reading and count as known then); None if it did not exist."""
    if as_of is None:
        found = await rows.fetchrow(
            """SELECT k.*, s.version, s.reading_count, s.latest_reading_id, s.latest_value,
                      s.latest_observed_at
               FROM kpis k JOIN kpi_status s ON s.tenant_id = k.tenant_id AND s.kpi_id = k.kpi_id
               WHERE k.tenant_id = current_tenant() AND k.kpi_id = $1
                 AND k.valid_to_position IS NULL""",
            kpi_id,
        )
        return None if found is None else _view(found)
    found = await rows.fetchrow(
        f"""SELECT k.* FROM kpis k
            WHERE k.tenant_id = current_tenant() AND k.kpi_id = $1 AND {_valid("k", as_of, 2)}""",
        kpi_id,
        _moment(as_of),
    )
    if found is None:
        return None
    known = _known("r", as_of, 2)
    latest = await rows.fetchrow(
        f"""SELECT r.reading_id AS latest_reading_id, r.observed_at AS latest_observed_at,
                   {_value_known("r", as_of, 2)} AS latest_value,
                   count(*) OVER () AS reading_count
            FROM kpi_readings r
            WHERE r.tenant_id = current_tenant() AND r.kpi_id = $1 AND {known}
            ORDER BY r.observed_at DESC, r.position, r.seq LIMIT 1""",
        kpi_id,
        _moment(as_of),
    )
    status = dict(latest) if latest is not None else {"reading_count": 0, "latest_reading_id": None}
    return _view({**dict(found), "version": None, **status})


async def kpis(
    rows: Rows,
    *,
    area: str | None = None,
    health: Health | None = None,
    retired: bool | None = None,
    first: int = 50,
    after: str | None = None,
) -> Page[KPIView]:
    """Current KPIs in the order they were defined, filtered, a page at a time."""
    check_page_size(first)
    since = decode_cursor("kpi", after) or 0
    found = await rows.fetch(
        """SELECT k.*, s.version, s.reading_count, s.latest_reading_id, s.latest_value,
                  s.latest_observed_at
           FROM kpis k JOIN kpi_status s ON s.tenant_id = k.tenant_id AND s.kpi_id = k.kpi_id
           WHERE k.tenant_id = current_tenant() AND k.valid_to_position IS NULL
             AND k.defined_position > $1
             AND ($2::text IS NULL OR k.area = $2)
             AND ($3::text IS NULL OR k.health = $3)
             AND ($4::boolean IS NULL OR k.retired = $4)
           ORDER BY k.defined_position LIMIT $5""",
        since,
        area,
        None if health is None else health.value,
        retired,
        first + 1,
    )
    positions = {r["kpi_id"]: r["defined_position"] for r in found}
    return page_of([_view(r) for r in found], first, "kpi", lambda k: positions[k.id])


def _view(r: Any) -> KPIView:
    latest = (
        None
        if r["latest_reading_id"] is None
        else LatestReading(r["latest_reading_id"], r["latest_value"], r["latest_observed_at"])
    )
    bands = None if r["green"] is None else Bands(r["green"], r["yellow"])
    return KPIView(
        r["kpi_id"],
        r["name"],
        r["key"],
        r["unit"],
        Direction(r["direction"]),
        r["area"],
        Cadence(r["cadence"]),
        r["target"],
        bands,
        r["retired"],
        None if r["health"] is None else Health(r["health"]),
        latest,
        r["reading_count"],
        r["version"],
        r["defined_at"],
        r["valid_from_time"],
    )


# -- readings as recorded, corrected, or known at a moment -----------------------------


def _known(alias: str, as_known_at: AsOf, param: int) -> str:
    """Readings recorded at or before the moment."""
    column = "position" if as_known_at.position is not None else "recorded_at"
    return f"{alias}.{column} <= ${param}"


def _value_known(alias: str, as_known_at: AsOf | None, param: int) -> str:
    """A reading's value as known at the moment: the last correction recorded by then."""
    if as_known_at is None:
        return f"{alias}.value"
    column = "position" if as_known_at.position is not None else "recorded_at"
    return f"""CASE WHEN {alias}.corrections = 0 THEN {alias}.original_value ELSE coalesce(
        (SELECT c.value FROM kpi_corrections c
         WHERE c.tenant_id = {alias}.tenant_id AND c.kpi_id = {alias}.kpi_id
           AND c.reading_id = {alias}.reading_id AND c.{column} <= ${param}
         ORDER BY c.position DESC LIMIT 1), {alias}.original_value) END"""


# A reading's cursor: its observed time, its event's position (< 2**40) and its place in
# that event (< 2**13, a batch holds at most 5,000). Its own kind, so that a cursor of the
# earlier layout (time and position only) is refused rather than misread.
_POSITION_BITS, _SEQ_BITS = 40, 13
_CURSOR = "kpi-reading"
# A reading's cursor packs its observed time (microseconds since 1970), position and seq.
_LATEST_MICROSECONDS = (datetime.max.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // (
    timedelta(microseconds=1)
)


def _reading_key(observed_at: datetime, position: int, seq: int) -> int:
    micros = (observed_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    return (((micros << _POSITION_BITS) + position) << _SEQ_BITS) + seq


async def readings(
    rows: Rows,
    kpi_id: UUID,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    as_known_at: AsOf | None = None,
    first: int = 100,
    after: str | None = None,
) -> Page[ReadingView]:
    """A KPI's readings observed in [start, end), oldest observed first, a page at a time.

    Each carries its value as now corrected and its original value; with `as_known_at`,
    only readings recorded by then, each with its value as it was known then.
    """
    check_page_size(first)
    _check_range(start, end)
    cursor = decode_cursor(
        _CURSOR, after, max_key=((_LATEST_MICROSECONDS + 1) << (_POSITION_BITS + _SEQ_BITS)) - 1
    )
    after_time, after_position, after_seq = (
        (None, None, None)
        if cursor is None
        else (
            datetime(1970, 1, 1, tzinfo=UTC)
            + timedelta(microseconds=cursor >> (_POSITION_BITS + _SEQ_BITS)),
            (cursor >> _SEQ_BITS) & ((1 << _POSITION_BITS) - 1),
            cursor & ((1 << _SEQ_BITS) - 1),
        )
    )
    known = "TRUE" if as_known_at is None else _known("r", as_known_at, 8)
    found = await rows.fetch(
        f"""SELECT r.*, {_value_known("r", as_known_at, 8)} AS shown_value,
                   (SELECT e.actor FROM events e
                    WHERE e.tenant_id = r.tenant_id AND e.position = r.position) AS recorded_by
            FROM kpi_readings r
            WHERE r.tenant_id = current_tenant() AND r.kpi_id = $1
              AND ($2::timestamptz IS NULL OR r.observed_at >= $2)
              AND ($3::timestamptz IS NULL OR r.observed_at < $3)
              AND ($4::timestamptz IS NULL
                   OR (r.observed_at, r.position, r.seq) > ($4, $5::bigint, $6::int))
              AND {known}
            ORDER BY r.observed_at, r.position, r.seq LIMIT $7""",
        kpi_id,
        start,
        end,
        after_time,
        after_position,
        after_seq,
        first + 1,
        *([] if as_known_at is None else [_moment(as_known_at)]),
    )
    keys = {r["reading_id"]: _reading_key(r["observed_at"], r["position"], r["seq"]) for r in found}
    views = [_reading(r, as_known_at) for r in found]
    return page_of(views, first, _CURSOR, lambda v: keys[v.reading_id])


def _reading(r: Any, as_known_at: AsOf | None) -> ReadingView:
    corrected_at, count = r["corrected_at"], r["corrections"]
    if as_known_at is not None and count:
        # Which corrections were known then is in kpi_corrections; the view says only
        # whether the value shown differs from the original.
        corrected_at = corrected_at if r["shown_value"] != r["original_value"] else None
    return ReadingView(
        r["reading_id"],
        r["shown_value"],
        r["original_value"],
        r["observed_at"],
        r["source"],
        r["recorded_at"],
        corrected_at,
        count,
        r["recorded_by"],
        r["run_id"],
        r["client"],
    )


@dataclass(frozen=True)
class LoggedReadingView:
    """One reading with where it sits in the log, and the KPI's name (as of the moment)."""

    kpi_id: UUID
    kpi_name: str
    reading_id: UUID
    value: Decimal
    observed_at: datetime
    recorded_at: datetime
    position: int


async def logged_reading(
    rows: Rows, kpi_id: UUID, reading_id: UUID, *, as_known_at: AsOf | None = None
) -> LoggedReadingView | None:
    """One reading by id, its value as known at the moment (now if None); None if not known."""
    known = "TRUE" if as_known_at is None else _known("r", as_known_at, 3)
    found = await rows.fetchrow(
        f"""SELECT r.reading_id, r.observed_at, r.recorded_at, r.position,
                   {_value_known("r", as_known_at, 3)} AS shown_value,
                   (SELECT k.name FROM kpis k
                    WHERE k.tenant_id = r.tenant_id AND k.kpi_id = r.kpi_id
                      AND k.valid_from_position <= r.position
                    ORDER BY k.valid_from_position DESC LIMIT 1) AS kpi_name
            FROM kpi_readings r
            WHERE r.tenant_id = current_tenant() AND r.kpi_id = $1 AND r.reading_id = $2
              AND {known}""",
        kpi_id,
        reading_id,
        *([] if as_known_at is None else [_moment(as_known_at)]),
    )
    if found is None:
        return None
    return LoggedReadingView(
        kpi_id,
        found["kpi_name"] or str(kpi_id),
        found["reading_id"],
        found["shown_value"],
        found["observed_at"],
        found["recorded_at"],
        found["position"],
    )


async def corrections(rows: Rows, kpi_id: UUID, reading_id: UUID) -> list[CorrectionView]:
    """Every correction of one reading, in the order they were recorded."""
    found = await rows.fetch(
        """SELECT * FROM kpi_corrections
           WHERE tenant_id = current_tenant() AND kpi_id = $1 AND reading_id = $2
           ORDER BY position""",
        kpi_id,
        reading_id,
    )
    return [_correction(r) for r in found]


async def corrections_of(
    rows: Rows, kpi_id: UUID, reading_ids: Sequence[UUID]
) -> dict[UUID, list[CorrectionView]]:
    """Every correction of some readings of one KPI, each reading's in recorded order."""
    found = await rows.fetch(
        """SELECT * FROM kpi_corrections
           WHERE tenant_id = current_tenant() AND kpi_id = $1 AND reading_id = ANY($2::uuid[])
           ORDER BY position""",
        kpi_id,
        list(reading_ids),
    )
    by_reading: dict[UUID, list[CorrectionView]] = {r: [] for r in reading_ids}
    for r in found:
        by_reading[r["reading_id"]].append(_correction(r))
    return by_reading


def _correction(r: Any) -> CorrectionView:
    return CorrectionView(
        r["reading_id"],
        r["value"],
        r["previous_value"],
        r["reason"],
        r["actor"],
        r["recorded_at"],
        r["position"],
    )


# -- bucketed history ------------------------------------------------------------------

_AGGREGATED = """
SELECT date_trunc('{bucket}', t) AS bucket, sum(n) AS count, sum(s) AS sum, min(lo) AS min,
       max(hi) AS max,
       (array_agg(last_value ORDER BY last_at DESC, last_position, last_seq))[1] AS last
FROM ({parts}) AS parts
GROUP BY 1 ORDER BY 1
"""

_DAYS = """
SELECT d.day::timestamp AS t, d.count AS n, d.sum AS s, d.min AS lo, d.max AS hi,
       d.last_value, d.last_observed_at AS last_at, d.last_position, 0 AS last_seq
FROM kpi_daily d
WHERE d.tenant_id = current_tenant() AND d.kpi_id = $1 AND d.day >= $4 AND d.day < $5
"""

_RAW = """
SELECT r.observed_at AT TIME ZONE 'UTC' AS t, 1 AS n, {value} AS s, {value} AS lo,
       {value} AS hi, {value} AS last_value, r.observed_at AS last_at, r.position AS last_position,
       r.seq AS last_seq
FROM kpi_readings r
WHERE r.tenant_id = current_tenant() AND r.kpi_id = $1 AND {known}
  AND r.observed_at >= {since} AND r.observed_at < {until}
"""


async def kpi_history(
    rows: Rows,
    kpi_id: UUID,
    start: datetime,
    end: datetime,
    bucket: Bucket,
    aggregate: Aggregate,
    *,
    as_known_at: AsOf | None = None,
) -> list[HistoryPoint]:
    """The KPI's readings observed in [start, end), aggregated per UTC bucket, oldest first;
    buckets without readings are left out.

    AVG, MIN, MAX and LAST use the values as corrected (LAST: the latest observed,
    ties to the one recorded first). With `as_known_at`, only what was recorded by
    then, with the corrections recorded by then ("what did we know at the QBR?").
    """
    _check_range(start, end)
    full_start, full_end = _whole_days(start, end)
    from_rollups = bucket is not Bucket.HOUR and as_known_at is None and full_start < full_end
    if not from_rollups:
        full_start = full_end = start  # an empty day range: every reading comes from raw rows
    value = _value_known("r", as_known_at, 8)
    known = "TRUE" if as_known_at is None else _known("r", as_known_at, 8)
    # The partial days before and after the whole ones, as two index range scans.
    raw = " UNION ALL ".join(
        _RAW.format(value=value, known=known, since=since, until=until)
        for since, until in (
            ("$2", "least($3, $6::timestamptz)"),
            ("greatest($2, $7::timestamptz)", "$3"),
        )
    )
    found = await rows.fetch(
        _AGGREGATED.format(bucket=bucket.value, parts=f"{_DAYS} UNION ALL {raw}"),
        kpi_id,
        start,
        end,
        full_start.date(),
        full_end.date(),
        full_start,
        full_end,
        *([] if as_known_at is None else [_moment(as_known_at)]),
    )
    return [_point(r, bucket, aggregate) for r in found]


def _check_range(start: datetime | None, end: datetime | None) -> None:
    """An open end is allowed; the fields are named as the API names the range."""
    for name, moment in (("from", start), ("to", end)):
        if moment is not None and moment.utcoffset() is None:
            raise InvalidValue(f"'{name}' must be timezone-aware", field=name)
    if start is not None and end is not None and not start < end:
        raise InvalidValue("'from' must come before 'to'", field="to")


def _whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The UTC midnights inside [start, end]: the first on or after start, the last before end."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = datetime.combine(start.date(), time(), UTC)
    if first < start:
        first += timedelta(days=1)
    last = datetime.combine(end.date(), time(), UTC)
    return first, max(first, last)


def _point(r: Any, bucket: Bucket, aggregate: Aggregate) -> HistoryPoint:
    begins = r["bucket"].replace(tzinfo=UTC)
    count = int(r["count"])
    value: Decimal
    if aggregate is Aggregate.AVG:
        value = r["sum"] / Decimal(count)
    elif aggregate is Aggregate.MIN:
        value = r["min"]
    elif aggregate is Aggregate.MAX:
        value = r["max"]
    elif aggregate is Aggregate.LAST:
        value = r["last"]
    else:
        value = Decimal(count)
    return HistoryPoint(begins, _bucket_end(begins, bucket), value, count)


def _bucket_end(begins: datetime, bucket: Bucket) -> datetime:
    if bucket is Bucket.HOUR:
        return begins + timedelta(hours=1)
    if bucket is Bucket.DAY:
        return begins + timedelta(days=1)
    if bucket is Bucket.WEEK:
        return begins + timedelta(days=7)
    year, month = (begins.year + 1, 1) if begins.month == 12 else (begins.year, begins.month + 1)
    return begins.replace(year=year, month=month)
