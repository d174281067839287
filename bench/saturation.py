"""Tenant isolation: a second tenant's reads while the first is saturated with commands.

`okrledger serve` (default pool of 10, response cache off so every read goes to the read
models) in its own process; 200 keep-alive clients of one tenant send commands of every
kind back to back (objectives set, revised and aligned both ways, key results added and
checked in, KPIs defined and read), aimed at the same few streams; meanwhile four clients
of another tenant read its objectives. The reads' p50/p99 are compared with the same reads
while the first tenant is idle. Target: p99 <= 100 ms while saturated.

The pieces that build a tenant and a burst of commands are also what the saturation tests
send (tests/e2e/test_tenant_saturation.py).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from bench.database import bench_database
from bench.http_mutations import served
from bench.load import KeepAlive
from bench.stats import Result, percentile, summarise

CLIENTS = 200
READERS = 4
TARGET_P99_MS = 100.0

# A JSON request body in, (status, body) out.
Post = Callable[[bytes], Awaitable[tuple[int, bytes]]]

PAYLOAD = "__typename ... on MutationPayload { version } ... on UserError { code }"
READ = orjson.dumps(
    {"query": "{ cycles { id name } objectives(first: 20) { edges { node { id title } } } }"}
)
TYPED, UNAVAILABLE = "typed", "unavailable"


def new_id() -> str:
    return str(uuid.uuid4())


def mutation(name: str, payload: dict[str, Any]) -> bytes:
    input_type = name[0].upper() + name[1:] + "Input"
    document = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}"
    return orjson.dumps({"query": document, "variables": {"input": payload}})


def answer_of(name: str, status: int, body: bytes) -> str:
    """TYPED (a payload or a UserError), UNAVAILABLE (a 503 saying so), or what was wrong."""
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return f"HTTP {status}: not JSON"
    if status == 503:
        codes = [e.get("extensions", {}).get("code") for e in decoded.get("errors", [])]
        return UNAVAILABLE if codes == ["UNAVAILABLE"] else f"503: {decoded}"
    if status != 200 or "errors" in decoded:
        return f"HTTP {status}: {decoded}"
    result = (decoded.get("data") or {}).get(name) or {}
    return TYPED if "version" in result or "code" in result else f"untyped: {decoded}"


@dataclass
class Tenant:
    """A tenant's ids to aim commands at."""

    cycle_id: str = ""
    objectives: list[str] = field(default_factory=list)
    key_results: list[tuple[str, str]] = field(default_factory=list)
    kpis: list[str] = field(default_factory=list)


async def prepared(post: Post, objectives: int = 10, kpis: int = 3) -> Tenant:
    """A cycle, objectives with a key result each, and KPIs, set one after another."""
    tenant = Tenant(cycle_id=new_id())

    async def acknowledged(name: str, payload: dict[str, Any]) -> None:
        status, body = await post(mutation(name, payload))
        result = orjson.loads(body)["data"][name]
        if status != 200 or "version" not in result:
            raise RuntimeError(f"{name} not acknowledged: {status} {body[:300]!r}")

    await acknowledged(
        "startCycle",
        {
            "cycleId": tenant.cycle_id,
            "name": f"Q-{tenant.cycle_id[:8]}",
            "startsOn": "2026-10-01",
            "endsOn": "2026-12-31",
        },
    )
    for n in range(objectives):
        objective_id, key_result_id = new_id(), new_id()
        await acknowledged(
            "setObjective",
            {
                "objectiveId": objective_id,
                "cycleId": tenant.cycle_id,
                "title": f"O{n}",
                "owner": "a",
            },
        )
        await acknowledged(
            "addKeyResult",
            {
                "objectiveId": objective_id,
                "keyResultId": key_result_id,
                "title": f"KR{n}",
                "metric": "NUMBER",
                "start": "0",
                "target": "100",
            },
        )
        tenant.objectives.append(objective_id)
        tenant.key_results.append((objective_id, key_result_id))
    for n in range(kpis):
        kpi_id = new_id()
        await acknowledged(
            "defineKpi",
            {
                "kpiId": kpi_id,
                "name": f"KPI {n}",
                "key": f"kpi-{kpi_id[:12]}",
                "unit": "%",
                "direction": "HIGHER_IS_BETTER",
                "area": "Growth",
                "cadence": "DAILY",
            },
        )
        tenant.kpis.append(kpi_id)
    return tenant


def command(tenant: Tenant, n: int) -> tuple[str, bytes]:
    """The n-th command of a burst: every kind in turn, aimed at the same few streams, with
    alignments in opposite pairs (one of a pair may be refused as a loop)."""
    objectives, kpis = tenant.objectives, tenant.kpis
    objective = objectives[n % len(objectives)]
    other = objectives[(n + 1) % len(objectives)]
    owner, key_result = tenant.key_results[n % len(tenant.key_results)]
    kind = n % 8
    if kind == 0:
        payload = {"cycleId": tenant.cycle_id, "title": f"New {n}", "owner": "b", "parentId": other}
        return "setObjective", mutation("setObjective", payload)
    if kind == 1:
        payload = {"objectiveId": objective, "title": f"Revised {n}"}
        return "reviseObjective", mutation("reviseObjective", payload)
    if kind == 2:
        payload = {
            "objectiveId": objective,
            "title": f"KR {n}",
            "metric": "NUMBER",
            "start": "0",
            "target": "50",
        }
        return "addKeyResult", mutation("addKeyResult", payload)
    if kind == 3:
        payload = {
            "objectiveId": owner,
            "keyResultId": key_result,
            "value": str(n % 100),
            "confidence": "ON_TRACK",
        }
        return "checkInKeyResult", mutation("checkInKeyResult", payload)
    if kind in (4, 5):
        child, parent = (objective, other) if kind == 4 else (other, objective)
        return "alignObjective", mutation(
            "alignObjective", {"objectiveId": child, "parentId": parent}
        )
    if kind == 6:
        payload = {
            "name": f"KPI {n}",
            "key": f"k-{n}-{new_id()[:8]}",
            "unit": "ms",
            "direction": "LOWER_IS_BETTER",
            "area": "Ops",
            "cadence": "DAILY",
        }
        return "defineKpi", mutation("defineKpi", payload)
    observed = datetime.now(UTC) - timedelta(minutes=n % 10_000 + 1)
    payload = {
        "kpiId": kpis[n % len(kpis)],
        "value": f"{n % 97}.5",
        "observedAt": observed.isoformat(),
    }
    return "recordKpiReading", mutation("recordKpiReading", payload)


@dataclass
class Saturation:
    """What one run saw: the reader's latencies and how the busy tenant was answered."""

    read_latencies: list[float] = field(default_factory=list)
    reads: int = 0
    commands: int = 0
    unavailable: int = 0
    wrong: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def read_while(url: str, token: str, until: asyncio.Event, seen: Saturation) -> None:
    connection = await KeepAlive.open(url, "/graphql", token)
    try:
        while not until.is_set():
            began = time.perf_counter()
            status, body = await connection.post(READ)
            seen.read_latencies.append(time.perf_counter() - began)
            seen.reads += 1
            if status != 200 or b'"errors"' in body:
                seen.wrong.append(f"read: {status} {body[:200]!r}")
    finally:
        await connection.close()


async def measure(
    url: str, busy_token: str, reader_token: str, tenant: Tenant, clients: int, seconds: float
) -> Saturation:
    """`clients` of the busy tenant send commands back to back for `seconds` while the
    readers read; with no clients, the readers alone."""
    seen, stop = Saturation(), asyncio.Event()
    counter = iter(range(10**9))

    async def client() -> None:
        connection = await KeepAlive.open(url, "/graphql", busy_token)
        try:
            while not stop.is_set():
                name, body = command(tenant, next(counter))
                status, answer = await connection.post(body)
                outcome = answer_of(name, status, answer)
                seen.commands += 1
                if outcome == UNAVAILABLE:
                    seen.unavailable += 1
                elif outcome != TYPED:
                    seen.wrong.append(f"{name}: {outcome[:300]}")
        finally:
            await connection.close()

    busy = [asyncio.create_task(client()) for _ in range(clients)]
    await asyncio.sleep(0.5 if clients else 0)  # the burst is under way before reads count
    readers = [
        asyncio.create_task(read_while(url, reader_token, stop, seen)) for _ in range(READERS)
    ]
    began = time.perf_counter()
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*readers, *busy)
    seen.seconds = time.perf_counter() - began
    return seen


async def run(quick: bool = False) -> list[Result]:
    seconds, runs = (4.0, 1) if quick else (10.0, 3)
    environment = {"OKRLEDGER_POOL_MAX": "10", "OKRLEDGER_RESPONSE_CACHE_BYTES": "0"}
    async with bench_database() as dsn, served(dsn, env=environment) as (url, mint):
        busy_token = mint(f"busy-{uuid.uuid4().hex[:6]}", ["editor"])
        reader_token = mint(f"calm-{uuid.uuid4().hex[:6]}", ["editor"])
        setups = []
        for token in (busy_token, reader_token):
            connection = await KeepAlive.open(url, "/graphql", token)
            setups.append(await prepared(connection.post))
            await connection.close()
        busy = setups[0]
        results = []
        for label, clients in (("first tenant idle", 0), (f"{CLIENTS} clients", CLIENTS)):
            latencies: list[float] = []
            rates: list[float] = []
            notes: list[str] = []
            for _ in range(runs):
                seen = await measure(url, busy_token, reader_token, busy, clients, seconds)
                if seen.wrong:
                    raise RuntimeError(f"untyped answers: {seen.wrong[:5]}")
                latencies += seen.read_latencies
                rates.append(seen.reads / seen.seconds)
                if clients:
                    notes.append(
                        f"{seen.commands / seen.seconds:,.0f} commands/s,"
                        f" {seen.unavailable} UNAVAILABLE"
                    )
            saturated = bool(clients)
            met = percentile(latencies, 0.99) * 1000 <= TARGET_P99_MS
            results.append(
                summarise(
                    "tenant isolation",
                    f"second tenant's reads, {label}",
                    rates,
                    latencies,
                    target=f"p99 <= {TARGET_P99_MS:.0f} ms" if saturated else "",
                    verdict=("met" if met else "missed") if saturated else "",
                    note="; ".join(notes),
                )
            )
        return results


if __name__ == "__main__":
    for result in asyncio.run(run(quick=True)):
        print(result)
