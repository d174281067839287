"""Reading read-model tables as the owner, for tests that compare inline and rebuilt rows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from okrledger.infra.db import set_tenant


@asynccontextmanager
async def owner(owner_dsn: str, tenant: str, schema: str = "public") -> AsyncIterator[Any]:
    """An owner connection in a transaction with `tenant` set, finding `schema`'s tables first."""
    connection = await asyncpg.connect(owner_dsn)
    try:
        await connection.execute(f"SET search_path TO {schema}, public")
        async with connection.transaction():
            await set_tenant(connection, tenant)
            yield connection
    finally:
        await connection.close()


async def read_model_rows(
    owner_dsn: str, tenant: str, tables: Mapping[str, str]
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each table (name -> ORDER BY) for `tenant`, as plain tuples."""
    async with owner(owner_dsn, tenant) as connection:
        return {
            table: [
                tuple(r.values())
                for r in await connection.fetch(
                    f"SELECT * FROM {table} WHERE tenant_id = $1 ORDER BY {order}", tenant
                )
            ]
            for table, order in tables.items()
        }
