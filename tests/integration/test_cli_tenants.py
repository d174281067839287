"""`okrledger tenants list`: each tenant's event count, head position and last activity."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from subprocess import PIPE

import orjson
import pytest

from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections
from okrledger.projections import catalog
from okrledger.services import cycles
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext

OKRLEDGER = [sys.executable, "-c", "from okrledger.infra.cli import main; main()"]


@pytest.fixture
def handler(database: Database) -> Handler:
    return Handler(PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())]))


async def start_cycles(handler: Handler, tenant: str, count: int) -> None:
    starts = date.today()
    for n in range(count):
        await cycles.start_cycle(
            cycles.StartCycle(f"Q{n}", starts, starts + timedelta(days=90)),
            CommandContext(tenant, "alice", str(uuid.uuid4())),
            handler,
        )


async def okrledger(owner_dsn: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *OKRLEDGER,
        *args,
        env={**os.environ, "DATABASE_URL": owner_dsn, "COLUMNS": "200"},
        stdout=PIPE,
        stderr=PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_json_lists_each_tenant_with_its_event_count_head_and_last_activity(
    owner_dsn: str, handler: Handler, tenant: str, other_tenant: str
) -> None:
    before = datetime.now(UTC)
    await start_cycles(handler, tenant, 3)
    await start_cycles(handler, other_tenant, 1)

    code, out, err = await okrledger(owner_dsn, "tenants", "list", "--json")

    assert code == 0, err
    listed = {entry["tenant"]: entry for entry in orjson.loads(out)}
    assert (listed[tenant]["events"], listed[tenant]["headPosition"]) == (3, 3)
    assert (listed[other_tenant]["events"], listed[other_tenant]["headPosition"]) == (1, 1)
    for entry in (listed[tenant], listed[other_tenant]):
        assert datetime.fromisoformat(entry["lastActivity"]) >= before


async def test_table_shows_each_tenant_with_its_counts(
    owner_dsn: str, handler: Handler, tenant: str, other_tenant: str
) -> None:
    await start_cycles(handler, tenant, 2)
    await start_cycles(handler, other_tenant, 1)

    code, out, err = await okrledger(owner_dsn, "tenants", "list")

    assert code == 0, err
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert [cell.strip() for cell in rows[tenant].split("│")[2:4]] == ["2", "2"]
    assert [cell.strip() for cell in rows[other_tenant].split("│")[2:4]] == ["1", "1"]
