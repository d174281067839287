"""One tenant saturating `okrledger serve` with concurrent commands: every request is
answered (a payload, a typed refusal or UNAVAILABLE, never a 500 or a hang) and another
tenant is served meanwhile. The server runs in its own process, on its default pool."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bench.saturation import READ, TYPED, UNAVAILABLE, Post, answer_of, command, prepared
from okrledger.services.identity import Role
from tests.e2e.served import ServedProcess

COMMANDS = 200
ALIGNMENTS = 40
WITHIN_SECONDS = 120  # a hang, not slowness, is what this catches


@pytest.fixture
async def server(owner_dsn: str, tmp_path: Path) -> AsyncIterator[ServedProcess]:
    served = ServedProcess(
        tmp_path / "data",
        owner_dsn,
        extra_env={"OKRLEDGER_WEBHOOK_WORKER": "0", "OKRLEDGER_RESPONSE_CACHE_BYTES": "0"},
    )
    served.start()
    try:
        await served.wait_ready()
        yield served
    finally:
        served.stop()


def poster(http: httpx.AsyncClient, headers: dict[str, str]) -> Post:
    """Posts a JSON body as one caller; a 503 must say when to come back."""

    async def post(body: bytes) -> tuple[int, bytes]:
        sent = {**headers, "Content-Type": "application/json"}
        response = await http.post("/graphql", content=body, headers=sent)
        if response.status_code == 503:
            assert int(response.headers["retry-after"]) >= 1, response.headers
        return response.status_code, response.content

    return post


async def read_meanwhile(post: Post, stop: asyncio.Event) -> list[int]:
    """The second tenant's reads, one after another until told to stop: their statuses."""
    statuses = []
    while not stop.is_set():
        status, body = await post(READ)
        assert status != 200 or b'"errors"' not in body, body
        statuses.append(status)
    return statuses


async def burst_with_a_reader(
    server: ServedProcess, commands: list[tuple[str, bytes]], busy: Post, reader: Post
) -> tuple[list[str], list[int]]:
    stop = asyncio.Event()
    reading = asyncio.create_task(read_meanwhile(reader, stop))

    async def one(name: str, body: bytes) -> str:
        try:
            status, answer = await busy(body)
        except httpx.TransportError as error:
            return f"{name}: no answer ({type(error).__name__})"
        return answer_of(name, status, answer)

    try:
        async with asyncio.timeout(WITHIN_SECONDS):
            answers = await asyncio.gather(*(one(name, body) for name, body in commands))
    finally:
        stop.set()
    statuses = await asyncio.wait_for(reading, 30)
    return answers, statuses


def clients(server: ServedProcess) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=COMMANDS + 10, max_keepalive_connections=COMMANDS + 10)
    return httpx.AsyncClient(base_url=server.url, timeout=WITHIN_SECONDS, limits=limits)


@pytest.mark.slow
async def test_two_hundred_concurrent_commands_of_every_kind_in_one_tenant_are_all_answered(
    server: ServedProcess,
) -> None:
    busy_tenant, calm_tenant = f"busy-{uuid.uuid4().hex[:8]}", f"calm-{uuid.uuid4().hex[:8]}"
    async with clients(server) as http:
        busy = poster(http, server.bearer(busy_tenant, "busy", Role.EDITOR))
        reader = poster(http, server.bearer(calm_tenant, "calm", Role.EDITOR))
        # Given two tenants with objectives, key results and KPIs
        tenant = await prepared(busy)
        await prepared(reader, objectives=2, kpis=1)

        # When one sends two hundred commands of every kind at once, on the same streams
        commands = [command(tenant, n) for n in range(COMMANDS)]
        assert {name for name, _ in commands} >= {
            "setObjective",
            "reviseObjective",
            "addKeyResult",
            "checkInKeyResult",
            "alignObjective",
            "defineKpi",
            "recordKpiReading",
        }
        answers, statuses = await burst_with_a_reader(server, commands, busy, reader)

    print(
        "ANSWERS",
        answers.count(TYPED),
        answers.count(UNAVAILABLE),
        len(statuses),
        statuses.count(503),
    )
    # Then every one was answered with a payload, a typed refusal or UNAVAILABLE
    assert [a for a in answers if a not in (TYPED, UNAVAILABLE)] == []
    assert answers.count(TYPED) > COMMANDS // 2
    # and the other tenant's reads were answered all along
    assert statuses and set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 1


async def test_forty_concurrent_alignments_in_one_tenant_leave_the_server_serving(
    server: ServedProcess,
) -> None:
    busy_tenant, calm_tenant = f"align-{uuid.uuid4().hex[:8]}", f"calm-{uuid.uuid4().hex[:8]}"
    async with clients(server) as http:
        busy = poster(http, server.bearer(busy_tenant, "busy", Role.EDITOR))
        reader = poster(http, server.bearer(calm_tenant, "calm", Role.EDITOR))
        tenant = await prepared(busy, objectives=20, kpis=1)
        await prepared(reader, objectives=1, kpis=1)

        # When forty alignments arrive at once (this hung the process for good: each held a
        # connection waiting on a lock whose holder needed one more)
        alignments = [n for n in range(ALIGNMENTS * 4) if n % 8 in (4, 5)][:ALIGNMENTS]
        commands = [command(tenant, n) for n in alignments]
        assert {name for name, _ in commands} == {"alignObjective"}
        answers, statuses = await burst_with_a_reader(server, commands, busy, reader)

        # Then every one is answered, and the server is ready and serves the other tenant
        assert [a for a in answers if a not in (TYPED, UNAVAILABLE)] == []
        assert answers.count(TYPED) == ALIGNMENTS
        assert statuses.count(200) >= 1 and set(statuses) <= {200, 503}, statuses
        assert (await http.get("/readyz")).status_code == 200
        status, body = await reader(READ)
        assert status == 200 and b'"errors"' not in body
