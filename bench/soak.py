"""Soak: minutes of mixed load against `okrledger serve`, watching for drift.

    python -m bench.soak --minutes 3

The server runs as its own process on a fresh database (DATABASE_URL's server, or an
embedded one); this process is the load: keep-alive clients checking in key results,
recording KPI readings, setting objectives and reading objectives, KPIs and the OKR tree,
plus a few `goalEvents` subscribers. It reports the server's RSS at the start and end,
every error response (there should be none), and p50/p99 latency per minute, which should
stay level for as long as it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import connect

from bench.database import bench_database, machine
from bench.http_mutations import Api, seed_kpis, seed_objectives
from bench.stats import percentile
from okrledger.infra.auth import development_issuer
from okrledger.infra.settings import Settings

CLIENTS = 12
SUBSCRIBERS = 3
OBJECTIVES = 12
KPIS = 12

CHECK_IN = (
    "mutation($o: UUID!, $k: UUID!, $v: Decimal!) { checkInKeyResult(input: {objectiveId: $o,"
    " keyResultId: $k, value: $v, confidence: ON_TRACK}) { __typename } }"
)
READING = (
    "mutation($k: UUID!, $v: Decimal!, $t: DateTime!) { recordKpiReading(input: {kpiId: $k,"
    " value: $v, observedAt: $t}) { __typename } }"
)
SET_OBJECTIVE = (
    "mutation($c: UUID!, $t: String!) { setObjective(input: {cycleId: $c, title: $t,"
    ' owner: "soak"}) { __typename } }'
)
OBJECTIVE = "query($id: UUID!) { objective(id: $id) { id title keyResults { id current } } }"
KPI = "query($id: UUID!) { kpi(id: $id) { id health readingCount latestReading { value } } }"
TREE = "query($c: UUID!) { okrTree(cycle: $c) { cycle { id } } }"
GOAL_EVENTS = "subscription { goalEvents(afterPosition: 0) { position } }"


@dataclass
class Tally:
    """Latencies and errors, bucketed by the minute of the run they happened in."""

    began: float = field(default_factory=time.monotonic)
    latencies: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    events: int = 0

    def minute(self) -> int:
        return int((time.monotonic() - self.began) // 60)


@asynccontextmanager
async def serving(dsn: str) -> AsyncIterator[tuple[str, str, psutil.Process]]:
    """`okrledger serve` in its own process; yields its URL, an editor token and the process."""
    with tempfile.TemporaryDirectory(prefix="okrl-soak-") as folder:
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": dsn,
            "OKRLEDGER_TENANT_MUTATIONS_PER_MINUTE": "0",
            "OKRLEDGER_TOKEN_MUTATIONS_PER_MINUTE": "0",
            "OKRLEDGER_TENANT_QUERY_COST_PER_MINUTE": "0",
            "OKRLEDGER_LOG_LEVEL": "WARNING",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from okrledger.infra.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            await _wait_ready(url, process)
            settings = Settings(data_dir=Path(folder), port=port)
            tenant = f"soak-{uuid.uuid4().hex[:6]}"
            token = development_issuer(settings).mint(tenant, "soak", ["editor"])
            yield url, token, psutil.Process(process.pid)
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_ready(url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            if process.returncode is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                if (await http.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become ready")


async def client(
    url: str,
    token: str,
    n: int,
    pairs: list[tuple[str, str]],
    kpi_ids: list[str],
    cycle_id: str,
    deadline: float,
    tally: Tally,
) -> None:
    rng = random.Random(n)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        while time.monotonic() < deadline:
            objective_id, kr_id = rng.choice(pairs)
            kpi_id = rng.choice(kpi_ids)
            roll = rng.random()
            if roll < 0.35:
                name, query = "checkInKeyResult", CHECK_IN
                variables: dict[str, Any] = {
                    "o": objective_id,
                    "k": kr_id,
                    "v": str(rng.randint(31, 45)),
                }
            elif roll < 0.65:
                observed = datetime.now(UTC) - timedelta(seconds=rng.randint(1, 86_400 * 30))
                name, query = "recordKpiReading", READING
                variables = {"k": kpi_id, "v": str(rng.randint(0, 100)), "t": observed.isoformat()}
            elif roll < 0.68:
                name, query = "setObjective", SET_OBJECTIVE
                variables = {"c": cycle_id, "t": f"Soak {uuid.uuid4().hex[:6]}"}
            elif roll < 0.82:
                name, query, variables = "objective", OBJECTIVE, {"id": objective_id}
            elif roll < 0.96:
                name, query, variables = "kpi", KPI, {"id": kpi_id}
            else:
                name, query, variables = "okrTree", TREE, {"c": cycle_id}
            minute = tally.minute()
            began = time.perf_counter()
            try:
                response = await http.post(
                    "/graphql", json={"query": query, "variables": variables}
                )
            except httpx.HTTPError as error:
                tally.errors[f"{name}: {type(error).__name__}"] += 1
                continue
            tally.latencies[minute].append(time.perf_counter() - began)
            body = response.json() if response.status_code == 200 else {}
            answer = (body.get("data") or {}).get(name)
            if response.status_code != 200 or body.get("errors") or answer is None:
                tally.errors[f"{name}: HTTP {response.status_code}"] += 1
            elif not answer.get("__typename", "Payload").endswith("Payload"):
                tally.errors[f"{name}: {answer['__typename']}"] += 1


async def subscriber(url: str, token: str, deadline: float, tally: Tally) -> None:
    ws = url.replace("http://", "ws://") + "/graphql"
    protocols = ["graphql-transport-ws"]
    async with connect(ws, subprotocols=protocols) as connection:  # type: ignore[arg-type]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await connection.send(json.dumps(init))
        await connection.recv()
        query = {"query": GOAL_EVENTS}
        await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": query}))
        while time.monotonic() < deadline:
            try:
                message = json.loads(await asyncio.wait_for(connection.recv(), 1))
            except TimeoutError:
                continue
            if message.get("type") == "next" and "errors" not in message["payload"]:
                tally.events += 1
            else:
                tally.errors[f"goalEvents: {message.get('type')}"] += 1


def rss_mb(process: psutil.Process) -> float:
    return float(process.memory_info().rss) / 2**20


async def soak(minutes: float) -> str:
    async with bench_database() as dsn, serving(dsn) as (url, token, process):
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
            api = Api(http)
            pairs = await seed_objectives(api, OBJECTIVES)
            kpi_ids = await seed_kpis(api, KPIS)
            cycles = await api("{ cycles { id } }")
        cycle_id = cycles["cycles"][0]["id"]
        rss_start = rss_mb(process)
        load_start = os.getloadavg()[0]
        tally = Tally()
        deadline = time.monotonic() + minutes * 60
        await asyncio.gather(
            *(
                client(url, token, n, pairs, kpi_ids, cycle_id, deadline, tally)
                for n in range(CLIENTS)
            ),
            *(subscriber(url, token, deadline, tally) for _ in range(SUBSCRIBERS)),
        )
        rss_end = rss_mb(process)
    loads = (load_start, os.getloadavg()[0])
    return report(minutes, tally, (rss_start, rss_end), loads)


def report(
    minutes: float, tally: Tally, rss: tuple[float, float], loads: tuple[float, float]
) -> str:
    lines = [
        f"soak: {minutes:g} min, {CLIENTS} clients, {SUBSCRIBERS} subscribers; {machine()}",
        f"machine load average (1 min): {loads[0]:.1f} at start, {loads[1]:.1f} at end",
        f"server RSS: {rss[0]:.1f} MB at start, {rss[1]:.1f} MB at end",
        f"requests: {sum(len(v) for v in tally.latencies.values())}, "
        f"error responses: {sum(tally.errors.values())}"
        + (f" ({dict(tally.errors)})" if tally.errors else ""),
        f"events received by subscribers: {tally.events}",
        "",
        "| minute | requests | p50 ms | p99 ms |",
        "|---:|---:|---:|---:|",
    ]
    for minute in sorted(tally.latencies):
        values = tally.latencies[minute]
        lines.append(
            f"| {minute + 1} | {len(values)} | {percentile(values, 0.5) * 1000:.1f} |"
            f" {percentile(values, 0.99) * 1000:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=30.0, help="How long to run.")
    arguments = parser.parse_args()
    text = asyncio.run(soak(arguments.minutes))
    print(text)


if __name__ == "__main__":
    main()
