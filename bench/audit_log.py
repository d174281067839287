"""`auditLog(first: 50)` on a tenant with a million change-log entries, over HTTP.

The change log is filled directly with SQL (`generate_series`, as the owner): one tenant with
a million entries from twenty actors, then other tenants' entries, and the same pages are
read again to see whether the read stays flat as the table grows. The peer in the same run
is the same page read with one SQL statement on a direct connection.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from bench.database import bench_database
from bench.http_mutations import server
from bench.okr_tree import token_tenant
from bench.stats import Result, summarise
from okrledger.infra.db import set_tenant

ACTORS = 20
ACTOR = "actor-7"
SEED_CHUNK = 250_000

FILL = """
INSERT INTO change_log (tenant_id, position, stream_id, stream_type, version, event_type,
    actor, recorded_at, command_id, correlation_id, reason, summary, changes)
SELECT $1, g,
    ('00000000-0000-0000-0000-' || lpad((g % 1000)::text, 12, '0'))::uuid,
    'Objective', g / 1000 + 1, 'KeyResultCheckedIn', 'actor-' || (g % $4),
    now() - make_interval(secs => $3 - g), 'cmd-' || g, NULL, NULL,
    'Checked in Key result 1 at 42',
    '[{"field": "current", "from": "41", "to": "42", "goalpostMoved": false}]'::jsonb
FROM generate_series($2::bigint, $3::bigint) AS g
"""

ENTRY = (
    "position streamId streamType version eventType actor recordedAt commandId correlationId"
    " reason summary changes { field from to goalpostMoved }"
)
NEWEST = f"{{ auditLog(first: 50) {{ edges {{ node {{ {ENTRY} }} }} pageInfo {{ endCursor }} }} }}"
BY_ACTOR = (
    "query($a: String!) { auditLog(first: 50, filter: {actor: $a}) { edges { node { "
    f"{ENTRY} }} }} pageInfo {{ endCursor }} }} }}"
)
PEER = """SELECT position, stream_id, stream_type, version, event_type, actor, recorded_at,
       command_id, correlation_id, reason, summary, changes::text AS changes
    FROM change_log WHERE tenant_id = $1 {} ORDER BY position DESC LIMIT 51"""


async def fill(dsn: str, tenant: str, entries: int) -> None:
    """`entries` change-log rows in `tenant`, on two connections at once."""
    chunks = [(s, min(s + SEED_CHUNK - 1, entries)) for s in range(1, entries + 1, SEED_CHUNK)]

    async def worker(mine: list[tuple[int, int]]) -> None:
        connection = await asyncpg.connect(dsn)
        try:
            for first, last in mine:
                await connection.execute(FILL, tenant, first, last, ACTORS)
        finally:
            await connection.close()

    await asyncio.gather(worker(chunks[0::2]), worker(chunks[1::2]))


async def analyse(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("VACUUM ANALYZE change_log")
    finally:
        await connection.close()


async def _timed(runs: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    latencies = []
    for _ in range(runs):
        began = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - began)
    return latencies


async def measure(url: str, token: str, dsn: str, tenant: str, runs: int) -> dict[str, list[float]]:
    connection = await asyncpg.connect(dsn)
    try:
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:

            async def graphql(query: str, variables: dict[str, Any] | None = None) -> None:
                response = await http.post(
                    "/graphql", json={"query": query, "variables": variables}
                )
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise RuntimeError(str(body)[:500])
                if len(body["data"]["auditLog"]["edges"]) != 50:
                    raise RuntimeError("a short page")

            async def sql(actor: str | None) -> None:
                async with connection.transaction(readonly=True):
                    await set_tenant(connection, tenant)
                    if actor is None:
                        rows = await connection.fetch(PEER.format(""), tenant)
                    else:
                        rows = await connection.fetch(PEER.format("AND actor = $2"), tenant, actor)
                if len(rows) != 51:
                    raise RuntimeError("a short page")

            await graphql(NEWEST)  # connections and plans warmed once
            return {
                "sql newest": await _timed(runs, lambda: sql(None)),
                "sql actor": await _timed(runs, lambda: sql(ACTOR)),
                "ours newest": await _timed(runs, lambda: graphql(NEWEST)),
                "ours actor": await _timed(runs, lambda: graphql(BY_ACTOR, {"a": ACTOR})),
            }
    finally:
        await connection.close()


async def run(quick: bool = False) -> list[Result]:
    # Other tenants hold 10x the measured tenant's entries, filled two at a time (one
    # PostgreSQL backend each, on two cores).
    entries, others, runs = (100_000, 2, 50) if quick else (1_000_000, 10, 100)
    async with bench_database() as dsn, server(dsn, roles=("auditor",)) as (url, token):
        tenant = token_tenant(token)
        began = time.perf_counter()
        await fill(dsn, tenant, entries)
        await analyse(dsn)
        seeded = time.perf_counter() - began
        alone = await measure(url, token, dsn, tenant, runs)
        began = time.perf_counter()
        for first in range(0, others, 2):
            await asyncio.gather(
                *(fill(dsn, f"other-{n}", entries) for n in range(first, min(first + 2, others)))
            )
        await analyse(dsn)
        crowded_seconds = time.perf_counter() - began
        crowded = await measure(url, token, dsn, tenant, runs)
    print(
        f"audit log: {entries:,} entries seeded in {seeded:.0f} s, "
        f"{others * entries:,} other-tenant entries in {crowded_seconds:.0f} s"
    )
    size = f"{entries:,} entries"
    crowd = f"{entries:,} entries, {others}x as many in other tenants"
    results = []
    for key, label in (("newest", "newest first"), ("actor", "actor filter")):
        peer = summarise(
            "auditLog",
            f"peer: one SQL statement, {label} ({size})",
            [1 / s for s in alone[f"sql {key}"]],
            alone[f"sql {key}"],
        )
        for measured, where in ((alone, size), (crowded, crowd)):
            mine = summarise(
                "auditLog",
                f"auditLog(first: 50) over HTTP, {label} ({where})",
                [1 / s for s in measured[f"ours {key}"]],
                measured[f"ours {key}"],
            )
            sql_p50 = (
                peer.p50_ms
                if measured is alone
                else summarise("", "", [1.0], measured[f"sql {key}"]).p50_ms
            )
            results.append(
                Result(
                    mine.benchmark,
                    mine.subject,
                    mine.rate,
                    mine.p50_ms,
                    mine.p99_ms,
                    mine.runs,
                    "p50 <= 20 ms",
                    "met" if mine.p50_ms <= 20 else "missed",
                    f"{mine.p50_ms / sql_p50:.1f}x one SQL statement ({sql_p50:.2f} ms)",
                )
            )
        results.insert(len(results) - 2, peer)
    return results


if __name__ == "__main__":
    for result in asyncio.run(run(quick=bool(os.environ.get("BENCH_QUICK")))):
        print(result)
