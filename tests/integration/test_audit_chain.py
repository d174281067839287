"""Each tenant's log is a hash chain: edits, deletions and forged exports are found."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from subprocess import PIPE

import asyncpg
import orjson
import pytest
from eventsourcing.domain import Aggregate, event

from okrledger.infra.audit import export_chain, verify_chain
from okrledger.infra.audit_chain import verify_export
from okrledger.infra.event_store import PostgresEventStore
from okrledger.services.ports import CommandContext

OKRLEDGER = [sys.executable, "-c", "from okrledger.infra.cli import main; main()"]


class Thermometer(Aggregate):
    @event("ThermometerHung")
    def __init__(self, room: str) -> None:
        self.room = room

    @event("TemperatureRead")
    def read(self, celsius: Decimal) -> None:
        self.celsius = celsius


async def write(store: PostgresEventStore, tenant: str, readings: int = 3) -> None:
    thermometer = Thermometer(room="lab")
    for n in range(readings):
        thermometer.read(Decimal(n) + Decimal("0.5"))
    await store.append(
        CommandContext(tenant, "carol", uuid.uuid4().hex, reason="calibration"),
        thermometer.collect_events(),
    )


@pytest.fixture
async def owner(owner_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(owner_dsn)
    yield connection
    await connection.close()


async def in_tenant(owner: asyncpg.Connection, tenant: str) -> None:
    await owner.execute("SELECT set_config('okrledger.tenant_id', $1, false)", tenant)


async def test_an_untouched_log_verifies_from_first_to_last_position(
    store: PostgresEventStore, owner: asyncpg.Connection, tenant: str, other_tenant: str
) -> None:
    for _ in range(3):
        await write(store, tenant)
        await write(store, other_tenant)
    await in_tenant(owner, tenant)

    async with owner.transaction():
        check = await verify_chain(owner, tenant)
        partial = await verify_chain(owner, tenant, 5, 9)

    assert check.ok and check.checked == 12 and check.last_position == 12
    assert partial.ok and partial.checked == 5


async def test_a_payload_edited_in_postgresql_is_found_at_its_exact_position(
    store: PostgresEventStore, owner: asyncpg.Connection, tenant: str
) -> None:
    for _ in range(4):
        await write(store, tenant)
    await in_tenant(owner, tenant)

    await owner.execute(
        """UPDATE events SET payload = jsonb_set(payload, '{celsius}', '"99.0"')
           WHERE tenant_id = $1 AND position = 7""",
        tenant,
    )
    async with owner.transaction():
        check = await verify_chain(owner, tenant)

    assert not check.ok
    assert check.broken_at == 7
    assert check.checked == 6


async def test_a_rewritten_actor_with_a_recomputed_hash_breaks_the_next_link(
    store: PostgresEventStore, owner: asyncpg.Connection, tenant: str
) -> None:
    await write(store, tenant)
    await in_tenant(owner, tenant)

    # A careful forger recomputes position 2's hash too; position 3 no longer chains to it.
    await owner.execute(
        "UPDATE events SET actor = 'mallory' WHERE tenant_id = $1 AND position = 2", tenant
    )
    await owner.execute(
        """UPDATE events AS e SET hash = sha256(
               (SELECT p.hash FROM events p WHERE p.tenant_id = $1 AND p.position = 1)
               || convert_to(event_canonical(e.tenant_id, e.stream_id, e.version, e.position,
                  e.event_id, e.stream_type, e.event_type, e.topic, e.payload, e.occurred_at,
                  e.recorded_at, e.actor, e.command_id, e.correlation_id, e.reason), 'UTF8'))
           WHERE e.tenant_id = $1 AND e.position = 2""",
        tenant,
    )
    async with owner.transaction():
        check = await verify_chain(owner, tenant)

    assert check.broken_at == 3


async def test_a_deleted_newest_event_is_missing_against_the_head(
    store: PostgresEventStore, owner: asyncpg.Connection, tenant: str
) -> None:
    await write(store, tenant)
    await in_tenant(owner, tenant)

    await owner.execute("DELETE FROM events WHERE tenant_id = $1 AND position = 4", tenant)
    async with owner.transaction():
        check = await verify_chain(owner, tenant)

    assert check.broken_at == 4
    assert check.problem == "position 4 is missing"


async def test_hashes_do_not_depend_on_the_session_time_zone(
    store: PostgresEventStore, owner: asyncpg.Connection, tenant: str
) -> None:
    await write(store, tenant)
    await in_tenant(owner, tenant)

    await owner.execute("SET TIME ZONE 'Pacific/Chatham'")
    async with owner.transaction():
        check = await verify_chain(owner, tenant)

    assert check.ok and check.checked == 4


async def test_an_export_verifies_offline_and_a_forged_line_is_found(
    store: PostgresEventStore, owner: asyncpg.Connection, tenant: str, tmp_path: Path
) -> None:
    for _ in range(3):
        await write(store, tenant)
    await in_tenant(owner, tenant)
    export = tmp_path / "audit.jsonl"
    async with owner.transaction():
        written = await export_chain(owner, tenant, export)

    lines = export.read_bytes().splitlines()
    assert written == 12 and len(lines) == 13
    assert verify_export(lines).ok

    forged = orjson.loads(lines[6])
    forged["event"] = forged["event"].replace('"carol"', '"mallory"')
    lines[6] = orjson.dumps(forged)
    check = verify_export(lines)
    assert (check.ok, check.broken_at) == (False, 6)


async def okrledger(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *OKRLEDGER, *args, env=env, stdout=PIPE, stderr=PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_cli_exports_checks_and_verifies_a_chain_with_exit_codes(
    store: PostgresEventStore, owner_dsn: str, tenant: str, tmp_path: Path
) -> None:
    await write(store, tenant, readings=5)
    online = {**os.environ, "DATABASE_URL": owner_dsn}
    offline = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    export = tmp_path / "audit.jsonl"

    code, out, err = await okrledger(
        "audit", "export", "--tenant", tenant, "--out", str(export), env=online
    )
    assert (code, out.strip()) == (0, f"exported 6 events to {export}"), err
    code, out, _ = await okrledger("audit", "check", "--tenant", tenant, env=online)
    assert (code, out.strip()) == (0, "ok: 6 events, chain intact up to position 6")
    code, out, _ = await okrledger("audit", "verify", str(export), env=offline)
    assert (code, out.strip()) == (0, "ok: 6 events, chain intact up to position 6")

    export.write_text(export.read_text().replace("carol", "mallory", 1))
    code, _, err = await okrledger("audit", "verify", str(export), env=offline)
    assert code == 1
    assert "BROKEN at position 1" in err

    export.write_text("not an export\n")
    code, _, err = await okrledger("audit", "verify", str(export), env=offline)
    assert code == 2
    assert "not JSON lines" in err
