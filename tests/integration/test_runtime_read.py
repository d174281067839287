"""The read factory the API's context gets: read-only, inside the caller's tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from okrledger.infra.bootstrap import Runtime, start_runtime
from okrledger.infra.settings import Settings


@pytest.fixture(scope="module")
async def runtime(owner_dsn: str) -> AsyncIterator[Runtime]:
    started = await start_runtime(Settings(database_url=owner_dsn, pool_min_size=1))
    yield started
    await started.close()


async def test_a_read_sees_the_callers_tenant_only(runtime: Runtime, tenant: str) -> None:
    async with runtime.read(tenant) as rows:
        setting = await rows.fetchval("SELECT current_setting('okrledger.tenant_id', true)")

    assert setting == tenant


async def test_a_read_cannot_write(runtime: Runtime, tenant: str) -> None:
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        async with runtime.read(tenant) as rows:
            await rows.execute("CREATE TEMP TABLE scratch (x int)")
