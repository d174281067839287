"""Reading the goal change history: one stream's story, or the tenant's audit log, filtered."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from okrledger.projections.base import Rows
from okrledger.projections.change_log import FieldChange, Provenance
from okrledger.projections.pages import Page, check_page_size, decode_cursor, page_of


@dataclass(frozen=True)
class ChangeEntry:
    position: int
    stream_id: UUID
    stream_type: str
    version: int
    event_type: str
    actor: str
    recorded_at: datetime
    command_id: str
    correlation_id: str | None
    reason: str | None
    summary: str
    changes: tuple[FieldChange, ...]
    provenance: Provenance = field(default_factory=Provenance)


@dataclass(frozen=True)
class HistoryFilter:
    """Every given criterion must hold; `since` is inclusive, `until` exclusive."""

    stream_id: UUID | None = None
    actors: Sequence[str] = ()
    event_types: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None


async def history(
    rows: Rows,
    where: HistoryFilter = HistoryFilter(),
    *,
    newest_first: bool = True,
    first: int = 50,
    after: str | None = None,
) -> Page[ChangeEntry]:
    """The audit log (or one stream's history), newest or oldest first, a page at a time."""
    check_page_size(first)
    cursor = decode_cursor("change", after)
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    clauses = _clauses(where, arg)
    if cursor is not None:
        clauses.append(f"position {'<' if newest_first else '>'} {arg(cursor)}")
    found = await rows.fetch(
        f"""SELECT {_COLUMNS} FROM change_log WHERE {" AND ".join(clauses)}
            ORDER BY position {"DESC" if newest_first else "ASC"} LIMIT {arg(first + 1)}""",
        *args,
    )
    return page_of([_entry(r) for r in found], first, "change", lambda e: e.position)


def log_query(where: HistoryFilter) -> tuple[str, list[Any]]:
    """The whole filtered log, oldest first, as SQL and its arguments (for a cursor)."""
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    clauses = _clauses(where, arg)
    sql = f"SELECT {_COLUMNS} FROM change_log WHERE {' AND '.join(clauses)} ORDER BY position"
    return sql, args


_COLUMNS = """position, stream_id, stream_type, version, event_type, actor, recorded_at,
              command_id, correlation_id, reason, summary, changes::text AS changes,
              observed_at, source, run_id, client"""


def _clauses(where: HistoryFilter, arg: Callable[[Any], str]) -> list[str]:
    clauses = ["tenant_id = current_tenant()"]
    if where.stream_id is not None:
        clauses.append(f"stream_id = {arg(where.stream_id)}")
    if where.actors:
        clauses.append(f"actor = ANY({arg(list(where.actors))}::text[])")
    if where.event_types:
        clauses.append(f"event_type = ANY({arg(list(where.event_types))}::text[])")
    if where.since is not None:
        clauses.append(f"recorded_at >= {arg(where.since)}")
    if where.until is not None:
        clauses.append(f"recorded_at < {arg(where.until)}")
    return clauses


async def stream_history(
    rows: Rows,
    stream_id: UUID,
    *,
    newest_first: bool = True,
    first: int = 50,
    after: str | None = None,
) -> Page[ChangeEntry]:
    """Everything that happened to one cycle, objective (with its key results) or setting."""
    return await history(
        rows,
        HistoryFilter(stream_id=stream_id),
        newest_first=newest_first,
        first=first,
        after=after,
    )


def _entry(r: Any) -> ChangeEntry:
    return ChangeEntry(
        r["position"],
        r["stream_id"],
        r["stream_type"],
        r["version"],
        r["event_type"],
        r["actor"],
        r["recorded_at"],
        r["command_id"],
        r["correlation_id"],
        r["reason"],
        r["summary"],
        tuple(
            FieldChange(c["field"], c["from"], c["to"], bool(c.get("goalpostMoved", False)))
            for c in orjson.loads(r["changes"])
        ),
        Provenance(r["observed_at"], r["source"], r["run_id"], r["client"]),
    )


async def goalpost_changes(
    rows: Rows, cycle_id: UUID, *, first: int = 50, after: str | None = None
) -> Page[ChangeEntry]:
    """Changes that moved a goalpost (start or target after the cycle began), oldest first.

    Each entry keeps only its goalpost-moving changes.
    """
    check_page_size(first)
    since = decode_cursor("change", after) or 0
    found = await rows.fetch(
        """SELECT position, stream_id, stream_type, version, event_type, actor, recorded_at,
                  command_id, correlation_id, reason, summary, changes::text AS changes,
                  observed_at, source, run_id, client
           FROM change_log
           WHERE tenant_id = current_tenant() AND position > $2
             AND changes @> '[{"goalpostMoved": true}]'
             AND stream_id IN (SELECT objective_id FROM okr_objectives
                               WHERE tenant_id = current_tenant() AND cycle_id = $1)
           ORDER BY position LIMIT $3""",
        cycle_id,
        since,
        first + 1,
    )
    moved = [
        replace(e, changes=tuple(c for c in e.changes if c.goalpost_moved))
        for e in map(_entry, found)
    ]
    return page_of(moved, first, "change", lambda e: e.position)
