"""Versioned rows: a change closes the current version of a thing and adds the next one.

Every versioned table has `valid_from_position`/`valid_to_position` (tenant log
positions) and `valid_from_time`/`valid_to_time` (recorded times); the current
version has no `valid_to_position`. Table and column names come from this
package's own constants, never from input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any
from uuid import UUID

import orjson

from okrledger.projections.base import FreshRows, Rows
from okrledger.projections.recorded import RecordedEvent

Row = dict[str, Any]

_VALIDITY = ("valid_from_position", "valid_to_position", "valid_from_time", "valid_to_time")


def _where(key: Mapping[str, Any], first: int = 1) -> tuple[str, list[Any]]:
    clauses = [f"{column} = ${n}" for n, column in enumerate(key, start=first)]
    return " AND ".join(clauses), list(key.values())


async def current(rows: Rows, table: str, key: Mapping[str, Any]) -> Row | None:
    """The current version of the thing `key` names (tenant_id included), if it exists."""
    where, args = _where(key)
    found = await rows.fetchrow(
        f"SELECT * FROM {table} WHERE {where} AND valid_to_position IS NULL", *args
    )
    return None if found is None else dict(found)


async def add(rows: Rows, table: str, record: RecordedEvent, values: Mapping[str, Any]) -> None:
    """Insert the first or next version, valid from `record`'s position."""
    row = {
        **values,
        "valid_from_position": record.position,
        "valid_to_position": None,
        "valid_from_time": record.recorded_at,
        "valid_to_time": None,
    }
    columns = ", ".join(row)
    placeholders = ", ".join(f"${n}" for n in range(1, len(row) + 1))
    await rows.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
        *row.values(),
    )


async def close(rows: Rows, table: str, record: RecordedEvent, key: Mapping[str, Any]) -> None:
    """End the current version at `record`'s position (the thing no longer exists after it)."""
    where, args = _where(key, first=3)
    await rows.execute(
        f"""UPDATE {table} SET valid_to_position = $1, valid_to_time = $2
            WHERE {where} AND valid_to_position IS NULL AND valid_from_position < $1""",
        record.position,
        record.recorded_at,
        *args,
    )


async def replace(
    rows: Rows,
    table: str,
    key_columns: tuple[str, ...],
    record: RecordedEvent,
    old: Row,
    changes: Mapping[str, Any],
) -> Row:
    """Close `old` and add the version with `changes` applied; returns the new version."""
    new = {k: v for k, v in old.items() if k not in _VALIDITY}
    new.update(changes)
    row = {  # validity first: the UPDATE below refers to $1 and $3
        "valid_from_position": record.position,
        "valid_to_position": None,
        "valid_from_time": record.recorded_at,
        "valid_to_time": None,
        **new,
    }
    where, key_args = _where({k: old[k] for k in key_columns}, first=len(row) + 1)
    columns = ", ".join(row)
    placeholders = ", ".join(f"${n}" for n in range(1, len(row) + 1))
    # One round trip: close the current version and add the next.
    await rows.execute(
        f"""WITH closed AS (
                UPDATE {table} SET valid_to_position = $1, valid_to_time = $3
                WHERE {where} AND valid_to_position IS NULL AND valid_from_position < $1)
            INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING""",
        *row.values(),
        *key_args,
    )
    return new


def already_applied(old: Row, record: RecordedEvent) -> bool:
    """True when `old` was written by this event or a later one (a replayed event)."""
    return bool(old["valid_from_position"] >= record.position)


async def as_of(rows: Rows, table: str, key: Mapping[str, Any], position: int) -> Row | None:
    """The version of the thing `key` names that was current at `position`."""
    where, args = _where(key, first=2)
    # Versions never overlap: only the newest one starting at or before `position` can be
    # it, and the primary key (…, valid_from_position) finds that one without a scan.
    found = await rows.fetchrow(
        f"""SELECT * FROM (SELECT * FROM {table} WHERE {where} AND valid_from_position <= $1
                           ORDER BY valid_from_position DESC LIMIT 1) AS newest
            WHERE valid_to_position IS NULL OR valid_to_position > $1""",
        position,
        *args,
    )
    return None if found is None else dict(found)


class Pending:
    """The versions a run of events writes to one table, kept in memory and written at once.

    `replace` does what `replace` above does, without a round trip: a version added
    earlier in the run is closed in place, one read from the table is closed by `write`.
    """

    def __init__(self, table: str, key_columns: tuple[str, ...]) -> None:
        self.table = table
        self.key_columns = key_columns
        self.closed: list[Row] = []
        self.added: list[Row] = []
        self._added_ids: set[int] = set()

    def replace(self, record: RecordedEvent, old: Row, changes: Mapping[str, Any]) -> Row:
        """Close `old` (a current version) and add the next; returns the new current version."""
        if old["valid_from_position"] >= record.position:
            return old
        if id(old) in self._added_ids:
            old["valid_to_position"] = record.position
            old["valid_to_time"] = record.recorded_at
        else:
            self.closed.append(
                {
                    **{k: old[k] for k in self.key_columns},
                    "valid_from_position": old["valid_from_position"],
                    "valid_to_position": record.position,
                    "valid_to_time": record.recorded_at,
                }
            )
        row = {
            **old,
            **changes,
            "valid_from_position": record.position,
            "valid_to_position": None,
            "valid_from_time": record.recorded_at,
            "valid_to_time": None,
        }
        self.added.append(row)
        self._added_ids.add(id(row))
        return row


async def write(rows: Rows, pending: Sequence[Pending]) -> None:
    """Write every table's pending versions in one statement: close, then add.

    Into fresh tables (a rebuild) the added versions are copied in instead, after the
    statement that closes the versions read from the tables.
    """
    fresh = isinstance(rows, FreshRows)
    parts: list[str] = []
    args: list[str] = []
    for n, table in enumerate(p for p in pending if p.closed or p.added):
        if table.closed:
            args.append(_json(table.closed))
            match = " AND ".join(f"t.{c} = c.{c}" for c in table.key_columns)
            parts.append(
                f"""closed_{n} AS (
                    UPDATE {table.table} t SET valid_to_position = c.valid_to_position,
                                               valid_to_time = c.valid_to_time
                    FROM jsonb_populate_recordset(NULL::{table.table}, ${len(args)}::jsonb) c
                    WHERE {match} AND t.valid_from_position = c.valid_from_position
                      AND t.valid_to_position IS NULL)"""
            )
        if table.added and not fresh:
            args.append(_json(table.added))
            parts.append(
                f"""added_{n} AS (
                    INSERT INTO {table.table}
                    SELECT * FROM jsonb_populate_recordset(NULL::{table.table}, ${len(args)}::jsonb)
                    ON CONFLICT DO NOTHING)"""
            )
    if parts:
        # Data-modifying WITH clauses run whether or not the main query reads them.
        await rows.execute(f"WITH {', '.join(parts)} SELECT 1", *args)
    if fresh:
        assert isinstance(rows, FreshRows)
        for table in pending:
            if table.added:
                columns = list(table.added[0])
                values = itemgetter(*columns)
                await rows.copy_rows(table.table, columns, [values(row) for row in table.added])


def _json(rows: Sequence[Row]) -> str:
    return orjson.dumps(rows, default=_exact).decode()


def _exact(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # as text, so numeric keeps every digit and the scale
    if isinstance(value, UUID):  # asyncpg's own UUID type, which orjson does not know
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a versioned row")
