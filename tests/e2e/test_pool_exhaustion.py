"""A server whose pool stays taken past OKRLEDGER_POOL_TIMEOUT answers UNAVAILABLE (503 with
Retry-After over HTTP, the same code over WebSocket) instead of hanging, then recovers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from okrledger.infra.db import set_tenant
from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.okr_steps import start_cycle
from tests.e2e.server import ApiClient, as_caller, issuer_of, serving
from tests.e2e.ws_steps import acknowledged, receive, socket

READ = "{ cycles { id name } }"
START_CYCLE = (
    "mutation($input: StartCycleInput!) { startCycle(input: $input) { __typename "
    "... on StartCyclePayload { version } } }"
)


@pytest.fixture
async def one_connection(owner_dsn: str, tmp_path: Path) -> AsyncIterator[tuple[str, Settings]]:
    """A server of its own with a pool of one connection and a short wait for it."""
    settings = Settings(
        database_url=owner_dsn,
        data_dir=tmp_path / "api",
        pool_min_size=1,
        pool_max_size=1,
        pool_timeout_seconds=0.5,
        tenant_mutations_per_minute=0,
        token_mutations_per_minute=0,
        webhook_worker=False,
    )
    async with serving(settings) as url:
        yield url, settings


async def wait_for_a_blocked_backend(owner: asyncpg.Connection) -> None:
    """Until the server's connection waits on the lock the test holds."""
    blocked = """SELECT count(*) FROM pg_stat_activity
                 WHERE application_name = 'okrledger' AND wait_event_type = 'Lock'"""
    for _ in range(200):
        if await owner.fetchval(blocked):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the server's connection never waited on the lock")


async def test_a_pool_taken_past_the_timeout_answers_unavailable_with_503_and_retry_after(
    one_connection: tuple[str, Settings], owner_dsn: str, tenant: str, other_tenant: str
) -> None:
    url, settings = one_connection
    async with ApiClient(url, issuer_of(settings)) as client:
        editor = as_caller(client, tenant, Role.EDITOR)
        await start_cycle(editor)
        owner = await asyncpg.connect(owner_dsn)
        try:
            # Given the only pooled connection stuck behind a lock another client holds
            holding = owner.transaction()
            await holding.start()
            await set_tenant(owner, tenant)
            await owner.execute(
                "SELECT * FROM tenant_heads WHERE tenant_id = $1 FOR UPDATE", tenant
            )
            variables = {
                "input": {"name": "Stuck", "startsOn": "2027-01-01", "endsOn": "2027-03-31"}
            }
            stuck = asyncio.create_task(
                client.post(
                    "/graphql",
                    json={"query": START_CYCLE, "variables": variables},
                    headers=editor.headers,
                )
            )
            checker = await asyncpg.connect(owner_dsn)
            try:
                await wait_for_a_blocked_backend(checker)
            finally:
                await checker.close()

            # When another tenant reads (the response cache asks for its head before the
            # operation runs) and changes something (the resolver asks) over HTTP
            reader = client.bearer(other_tenant, "reader", Role.EDITOR)
            for document in (READ, START_CYCLE):
                started = time.monotonic()
                response = await client.post(
                    "/graphql", json={"query": document, "variables": variables}, headers=reader
                )

                # Then it is told to come back: 503, Retry-After, a top-level UNAVAILABLE error
                assert time.monotonic() - started < 5
                assert response.status_code == 503, response.text
                assert int(response.headers["retry-after"]) >= 1
                errors = response.json()["errors"]
                assert [e["extensions"]["code"] for e in errors] == ["UNAVAILABLE"]
                assert "Unexpected error" not in response.text

            # and over WebSocket the same code comes in the operation's error payload
            init = {"Authorization": reader["Authorization"]}
            async with socket(url, init) as ws:
                await acknowledged(ws)
                operation = {"query": READ}
                await ws.send(json.dumps({"id": "q", "type": "subscribe", "payload": operation}))
                message = await receive(ws)
            payload = message["payload"]
            found = payload if isinstance(payload, list) else payload.get("errors", [])
            assert [e["extensions"]["code"] for e in found] == ["UNAVAILABLE"], message
            assert not stuck.done()
        finally:
            await owner.close()  # the lock goes with the connection

        # And once the lock is gone, the stuck change lands and reads are served again
        answered = await asyncio.wait_for(stuck, 10)
        assert answered.status_code == 200
        assert answered.json()["data"]["startCycle"]["__typename"] == "StartCyclePayload"
        response = await client.post("/graphql", json={"query": READ}, headers=reader)
        assert response.status_code == 200 and "errors" not in response.json()
