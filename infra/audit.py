"""Checking and exporting a tenant's hash chain straight from the events table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from okrledger.infra.audit_chain import ChainCheck, ChainLink, ChainWalker, export_header
from okrledger.infra.audit_chain import export_line as _line
from okrledger.infra.db import check_tenant_id

_LINKS = """
SELECT position, hash, event_canonical(tenant_id, stream_id, version, position, event_id,
       stream_type, event_type, topic, payload, occurred_at, recorded_at, actor, command_id,
       correlation_id, reason) AS canonical
FROM events WHERE tenant_id = $1 AND position >= $2 AND ($3::bigint IS NULL OR position <= $3)
ORDER BY position
"""


async def _previous(connection: asyncpg.Connection, tenant_id: str, position: int) -> bytes:
    if position <= 1:
        return b""
    found = await connection.fetchval(
        "SELECT hash FROM events WHERE tenant_id = $1 AND position = $2", tenant_id, position - 1
    )
    return bytes(found) if found is not None else b""


async def _links(
    connection: asyncpg.Connection, tenant_id: str, start: int, end: int | None
) -> AsyncIterator[ChainLink]:
    async for row in connection.cursor(_LINKS, tenant_id, start, end, prefetch=2000):
        yield ChainLink(row["position"], row["canonical"], bytes(row["hash"]))


async def verify_chain(
    connection: asyncpg.Connection,
    tenant_id: str,
    from_position: int = 1,
    to_position: int | None = None,
) -> ChainCheck:
    """Recompute the chain from the rows as they are now (in a transaction, tenant set)."""
    check_tenant_id(tenant_id)
    start = max(1, from_position)
    walker = ChainWalker(
        previous=await _previous(connection, tenant_id, start), first_position=start
    )
    async for link in _links(connection, tenant_id, start, to_position):
        if not walker.step(link):
            return walker.result()
    if to_position is None:
        # Deleting the newest events leaves an intact chain; the head still remembers them.
        head = await connection.fetchrow(
            "SELECT position, hash FROM tenant_heads WHERE tenant_id = $1", tenant_id
        )
        if head is not None and (walker.expected <= head["position"]):
            return ChainCheck(
                walker.checked,
                walker.last,
                walker.expected,
                f"position {walker.expected} is missing",
            )
        if head is not None and bytes(head["hash"]) != walker.previous and walker.checked:
            return ChainCheck(
                walker.checked,
                walker.last,
                walker.last,
                "the chain does not end at the head's hash",
            )
    return walker.result()


async def export_chain(
    connection: asyncpg.Connection,
    tenant_id: str,
    out: Path,
    from_position: int = 1,
    to_position: int | None = None,
) -> int:
    """Write the events with their hashes as JSON lines (streamed); returns how many."""
    check_tenant_id(tenant_id)
    start = max(1, from_position)
    written = 0
    with out.open("wb") as file:
        file.write(export_header(tenant_id, start, await _previous(connection, tenant_id, start)))
        file.write(b"\n")
        async for link in _links(connection, tenant_id, start, to_position):
            file.write(_line(link))
            file.write(b"\n")
            written += 1
    return written
