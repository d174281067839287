"""A tenant's head: the position of its latest event, one indexed lookup."""

from __future__ import annotations

from okrledger.infra.db import Database

HEAD = "SELECT position FROM tenant_heads WHERE tenant_id = current_tenant()"


async def head_position(database: Database, tenant_id: str) -> int:
    """0 before the tenant's first event."""
    async with database.transaction(tenant_id, readonly=True) as connection:
        position = await connection.fetchval(HEAD)
    return 0 if position is None else int(position)
