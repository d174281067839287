"""Exporting the audit log (the goal change history) as CSV or JSON lines, for auditors.

Rows come through a server-side cursor and are written one at a time, so the
export takes the same memory for a million entries as for ten.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import IO, Any

import asyncpg
import orjson

from okrledger.projections.history_queries import HistoryFilter, log_query

# How many rows the cursor fetches per round trip: the export's whole working set.
PREFETCH = 1000

COLUMNS = (
    "position",
    "recordedAt",
    "actor",
    "eventType",
    "streamType",
    "streamId",
    "version",
    "commandId",
    "correlationId",
    "reason",
    "observedAt",
    "source",
    "runId",
    "client",
    "summary",
    "changes",
)


class LogFormat(Enum):
    CSV = "csv"
    JSONL = "jsonl"


def _entry(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "position": row["position"],
        "recordedAt": row["recorded_at"].isoformat(),
        "actor": row["actor"],
        "eventType": row["event_type"],
        "streamType": row["stream_type"],
        "streamId": str(row["stream_id"]),
        "version": row["version"],
        "commandId": row["command_id"],
        "correlationId": row["correlation_id"],
        "reason": row["reason"],
        "observedAt": row["observed_at"].isoformat() if row["observed_at"] else None,
        "source": row["source"],
        "runId": row["run_id"],
        "client": row["client"],
        "summary": row["summary"],
        "changes": [
            {
                "field": c["field"],
                "from": c["from"],
                "to": c["to"],
                "goalpostMoved": bool(c.get("goalpostMoved", False)),
            }
            for c in orjson.loads(row["changes"])
        ],
    }


def _csv(file: IO[str]) -> Callable[[asyncpg.Record], None]:
    writer = csv.writer(file)
    writer.writerow(COLUMNS)

    def write(row: asyncpg.Record) -> None:
        entry = _entry(row)
        entry["changes"] = orjson.dumps(entry["changes"]).decode()
        writer.writerow(["" if entry[c] is None else entry[c] for c in COLUMNS])

    return write


def _jsonl(file: IO[str]) -> Callable[[asyncpg.Record], None]:
    def write(row: asyncpg.Record) -> None:
        file.write(orjson.dumps(_entry(row)).decode())
        file.write("\n")

    return write


async def export_audit_log(
    connection: asyncpg.Connection, where: HistoryFilter, out: Path, format: LogFormat
) -> int:
    """Write the filtered log, oldest first (in a transaction, tenant set); returns how many."""
    sql, args = log_query(where)
    written = 0
    # newline="": the csv module writes its own line endings (RFC 4180's CRLF).
    with out.open("w", encoding="utf-8", newline="") as file:
        write = _csv(file) if format is LogFormat.CSV else _jsonl(file)
        async for row in connection.cursor(sql, *args, prefetch=PREFETCH):
            write(row)
            written += 1
    return written
