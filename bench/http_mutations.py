"""Mutations over HTTP: 32 keep-alive clients against `okrledger serve` in its own process.

The load comes from this process (asyncio, through the lean keep-alive client in
bench/load.py, so the generator takes little of the CPU it shares with the server), the
server runs as a subprocess on the same database, as a user would run it (one worker,
limits off). The peer in the same
run is the cheapest GraphQL request there is (`{ serverVersion }`) through the same stack,
and that request again on uvicorn's pure-Python stack (h11 and asyncio's loop), which is
what it runs on without uvloop and httptools installed.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.database import bench_database
from bench.load import KeepAlive
from bench.stats import Result, summarise
from okrledger.infra.auth import development_issuer
from okrledger.infra.settings import Settings

CLIENTS = 32
BULK = 5000

Request = Callable[[KeepAlive, int], Awaitable[None]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# uvicorn without its standard extras: the pure-Python HTTP parser and asyncio's own loop.
PLAIN_STACK = ("--http", "h11", "--loop", "asyncio")


@asynccontextmanager
async def server(
    dsn: str, roles: Sequence[str] = ("editor",), stack: Sequence[str] = ()
) -> AsyncIterator[tuple[str, str]]:
    """A running server; yields its URL and a token holding `roles` for a fresh tenant.

    It is `okrledger serve`, or, with `stack` given (uvicorn options), the same app under
    `uvicorn` started with those options.
    """
    async with served(dsn, stack=stack) as (url, mint):
        yield url, mint(f"bench-{uuid.uuid4().hex[:6]}", roles)


# Signs a token for (tenant, roles) with the served process's development issuer.
Mint = Callable[[str, Sequence[str]], str]


@asynccontextmanager
async def served(
    dsn: str, *, stack: Sequence[str] = (), env: dict[str, str] | None = None
) -> AsyncIterator[tuple[str, Mint]]:
    """`server`, yielding its URL and a way to sign tokens for any tenant; `env` adds to or
    overrides the server's environment."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="okrl-bench-api-") as folder:
        environment = {
            **os.environ,
            "DATABASE_URL": dsn,
            "OKRLEDGER_TENANT_MUTATIONS_PER_MINUTE": "0",
            "OKRLEDGER_TOKEN_MUTATIONS_PER_MINUTE": "0",
            "OKRLEDGER_TENANT_QUERY_COST_PER_MINUTE": "0",
            "OKRLEDGER_LOG_LEVEL": "WARNING",
            "OKRLEDGER_POOL_MAX": "20",
            "OKRLEDGER_DATA_DIR": folder,
            "OKRLEDGER_PORT": str(port),
            **(env or {}),
        }
        where = ["--port", str(port)]
        if stack:
            app = "okrledger.infra.app:create_app"
            command = ["-m", "uvicorn", app, "--factory", *stack, *where, "--no-access-log"]
        else:
            serve = "from okrledger.infra.cli import main; main()"
            command = ["-c", serve, "serve", *where, "--data-dir", folder]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient() as http:
                for _ in range(300):
                    try:
                        if (await http.get(f"{url}/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
            issuer = development_issuer(Settings(data_dir=Path(folder), port=port))

            def mint(tenant_id: str, roles: Sequence[str]) -> str:
                return issuer.mint(tenant_id, "bench", list(roles))

            yield url, mint
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)


class Api:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"{response.status_code}: {body}")
        return body["data"]


async def seed_objectives(api: Api, count: int) -> list[tuple[str, str]]:
    """`count` active objectives with one key result each: (objective id, key result id)."""
    cycle = await api(
        'mutation { startCycle(input: {name: "Q4", startsOn: "2026-10-01", endsOn: "2026-12-31"})'
        " { ... on StartCyclePayload { cycle { id } } } }"
    )
    cycle_id = cycle["startCycle"]["cycle"]["id"]
    pairs = []
    for n in range(count):
        created = await api(
            "mutation($c: UUID!, $t: String!) { setObjective(input: {cycleId: $c, title: $t,"
            ' owner: "bench"}) { ... on SetObjectivePayload { objective { id } } } }',
            {"c": cycle_id, "t": f"Objective {n}"},
        )
        objective_id = created["setObjective"]["objective"]["id"]
        added = await api(
            'mutation($o: UUID!) { addKeyResult(input: {objectiveId: $o, title: "Raise NPS",'
            ' metric: NUMBER, start: "31", target: "45"}) { ... on AddKeyResultPayload {'
            " objective { keyResults { id } } } } }",
            {"o": objective_id},
        )
        kr_id = added["addKeyResult"]["objective"]["keyResults"][0]["id"]
        await api(
            "mutation($o: UUID!) { activateObjective(input: {objectiveId: $o}) { __typename } }",
            {"o": objective_id},
        )
        pairs.append((objective_id, kr_id))
    return pairs


async def seed_kpis(api: Api, count: int) -> list[str]:
    ids = []
    for n in range(count):
        defined = await api(
            "mutation($k: String!) { defineKpi(input: {name: $k, key: $k, direction:"
            ' HIGHER_IS_BETTER, area: "sales", cadence: HOURLY, unit: "%",'
            ' bands: {green: "4", yellow: "3"}}) { ... on DefineKpiPayload { kpi { id } } } }',
            {"k": f"conversion-{n}"},
        )
        ids.append(defined["defineKpi"]["kpi"]["id"])
    return ids


def _observed(n: int) -> str:
    return datetime.fromtimestamp(time.time() - n, UTC).isoformat()


async def _load(
    url: str, token: str, request: Request, seconds: float
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        connection = await KeepAlive.open(url, "/graphql", token)
        try:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                await request(connection, n)
                latencies.append(time.perf_counter() - began)
        finally:
            await connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    return len(latencies) / (time.perf_counter() - began), latencies


def _answered(status: int, body: bytes) -> None:
    """A mutation's answer must be its payload: anything else stops the run."""
    if status != 200 or b"Payload" not in body:
        raise RuntimeError(f"{status}: {body[:500].decode(errors='replace')}")


async def run(quick: bool = False) -> list[Result]:
    seconds, runs = (3.0, 2) if quick else (8.0, 3)
    async with bench_database() as dsn, server(dsn) as (url, token):
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as http:
            pairs = await seed_objectives(Api(http), CLIENTS)
            kpi_ids = await seed_kpis(Api(http), CLIENTS + 1)

        floor_body = orjson.dumps({"query": "{ serverVersion }"})

        async def version(connection: KeepAlive, n: int) -> None:
            status, body = await connection.post(floor_body)
            if status != 200 or b"serverVersion" not in body:
                raise RuntimeError(f"{status}: {body[:500].decode(errors='replace')}")

        check_in_query = (
            "mutation($o: UUID!, $k: UUID!, $v: Decimal!) { checkInKeyResult("
            "input: {objectiveId: $o, keyResultId: $k, value: $v, confidence: ON_TRACK})"
            " { __typename } }"
        )

        async def check_in(connection: KeepAlive, n: int) -> None:
            objective_id, kr_id = pairs[n]
            variables = {"o": objective_id, "k": kr_id, "v": str(31 + n % 14)}
            _answered(
                *await connection.post(
                    orjson.dumps({"query": check_in_query, "variables": variables})
                )
            )

        reading_query = (
            "mutation($k: UUID!, $v: Decimal!, $t: DateTime!) {"
            " recordKpiReading(input: {kpiId: $k, value: $v, observedAt: $t}) { __typename } }"
        )

        async def reading(connection: KeepAlive, n: int) -> None:
            variables = {"k": kpi_ids[n], "v": str(3 + n % 3), "t": _observed(n)}
            _answered(
                *await connection.post(
                    orjson.dumps({"query": reading_query, "variables": variables})
                )
            )

        async with server(dsn, stack=PLAIN_STACK) as (plain_url, plain_token):
            plain_floor = [
                await _load(plain_url, plain_token, version, seconds) for _ in range(runs)
            ]

        results = []
        for label, request, target in (
            ("{ serverVersion } (peer: the HTTP + GraphQL floor)", version, ""),
            ("checkInKeyResult, 32 clients", check_in, ">= 800/s, p99 <= 50 ms"),
            ("recordKpiReading, 32 clients", reading, ">= 800/s, p99 <= 50 ms"),
        ):
            rates, latencies = [], []
            for _ in range(runs):
                rate, lat = await _load(url, token, request, seconds)
                rates.append(rate)
                latencies.extend(lat)
            results.append(summarise("http mutations", label, rates, latencies, target=target))
        bulk = await _bulk(url, token, kpi_ids[CLIENTS], batches=2 if quick else 6)
    floor = results[0]
    plain = summarise(
        "http mutations",
        "{ serverVersion } on uvicorn's h11 parser and asyncio loop (without uvloop, httptools)",
        [rate for rate, _ in plain_floor],
        [latency for _, latencies in plain_floor for latency in latencies],
    )
    plain = Result(
        plain.benchmark,
        plain.subject,
        plain.rate,
        plain.p50_ms,
        plain.p99_ms,
        plain.runs,
        "",
        "",
        f"the floor served with uvloop + httptools: {floor.rate / plain.rate:.2f}x this",
    )
    for index in (1, 2):
        mine = results[index]
        met = mine.rate >= 800 and mine.p99_ms <= 50
        results[index] = Result(
            mine.benchmark,
            mine.subject,
            mine.rate,
            mine.p50_ms,
            mine.p99_ms,
            mine.runs,
            mine.target,
            "met" if met else "missed",
            f"{mine.rate / floor.rate:.0%} of the floor",
        )
    return [plain, *results, bulk]


async def _bulk(url: str, token: str, kpi_id: str, *, batches: int) -> Result:
    """recordKpiReadings with batches of 5,000, one after another: readings per second."""
    rates, latencies = [], []
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as http:
        for batch in range(batches):
            readings = [
                {"value": str(n % 7), "observedAt": _observed(batch * BULK + n + 1)}
                for n in range(BULK)
            ]
            began = time.perf_counter()
            response = await http.post(
                "/graphql",
                json={
                    "query": "mutation($k: UUID!, $r: [KpiReadingInput!]!) {"
                    " recordKpiReadings(input: {kpiId: $k, readings: $r}) { __typename } }",
                    "variables": {"k": kpi_id, "r": readings},
                },
            )
            seconds = time.perf_counter() - began
            if response.status_code != 200 or "Payload" not in response.text:
                raise RuntimeError(response.text[:500])
            rates.append(BULK / seconds)
            latencies.append(seconds)
    result = summarise(
        "bulk ingestion",
        "recordKpiReadings, batches of 5,000",
        rates,
        latencies,
        target=">= 50,000 readings/s",
    )
    met = result.rate >= 50_000
    return Result(
        result.benchmark,
        result.subject,
        result.rate,
        result.p50_ms,
        result.p99_ms,
        result.runs,
        result.target,
        "met" if met else "missed",
        "p50/p99 are per batch",
    )


if __name__ == "__main__":
    for result in asyncio.run(run(quick=bool(os.environ.get("BENCH_QUICK")))):
        print(result)
