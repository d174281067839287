"""A model-based run: thousands of random commands from 16 concurrent clients in 5 tenants,
over real HTTP, then the log and the read models held against what clients were told."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from okrledger.services.identity import Role
from tests.e2e.command_load import (
    ACK,
    REFUSED,
    UNKNOWN,
    Client,
    Ledger,
    TenantModel,
    open_tenant,
    problems_with,
    read_log,
    read_models_and_rebuild,
)
from tests.e2e.served import ServedProcess

SEED = 20261201
TENANTS = 5
CLIENTS = 16
STEPS_PER_CLIENT = 125  # 2,000 commands, plus deliberate retries


@pytest.fixture
async def server(owner_dsn: str, tmp_path: Path) -> AsyncIterator[ServedProcess]:
    """`okrledger serve` in its own process (so clients and server use both cores)."""
    served = ServedProcess(
        tmp_path / "data", owner_dsn, extra_env={"OKRLEDGER_WEBHOOK_WORKER": "0"}
    )
    served.start()
    try:
        await served.wait_ready()
        yield served
    finally:
        served.stop()


@pytest.mark.slow
async def test_concurrent_random_commands_leave_exactly_what_was_acknowledged(
    server: ServedProcess, owner_dsn: str
) -> None:
    # Given five tenants, each with a cycle
    rng = random.Random(SEED)
    ledger = Ledger()
    models = []
    for n in range(TENANTS):
        tenant = f"m{n}-{uuid.uuid4().hex[:10]}"
        models.append(TenantModel(tenant, server.bearer(tenant, f"client-{n}", Role.EDITOR)))
    limits = httpx.Limits(max_connections=CLIENTS * 2)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
        for model in models:
            await open_tenant(http, model, ledger, rng)

        # When sixteen clients send random commands at once
        clients = [
            Client(http, models[i % TENANTS], ledger, random.Random(SEED + i))
            for i in range(CLIENTS)
        ]
        await asyncio.gather(*(c.run(STEPS_PER_CLIENT) for c in clients))

    # Then every answer was typed, and the mix held acknowledgements and refusals
    assert ledger.count(UNKNOWN) == 0
    assert ledger.count(ACK) > 1000
    assert ledger.count(REFUSED) > 100
    assert sum(len(s.answers) > 1 for s in ledger.sent.values()) > 50
    for model in models:
        # and each tenant's log holds exactly what its clients were acknowledged
        log, head, chain_ok = await read_log(owner_dsn, model.tenant)
        assert problems_with(log, head, ledger.of_tenant(model.tenant)) == []
        assert chain_ok
        # and its read models equal a rebuild from its events
        inline, rebuilt = await read_models_and_rebuild(owner_dsn, model.tenant)
        assert rebuilt == inline
        assert inline["okr_objectives"] and inline["kpi_readings"]
