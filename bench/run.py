"""Run every benchmark and write docs/benchmarks.md: `make bench` (BENCH_QUICK=1: smoke run)."""

from __future__ import annotations

import asyncio
import os
import platform
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench import (
    append,
    audit_log,
    fanout,
    http_mutations,
    kpi_history,
    okr_tree,
    rebuild,
    saturation,
)
from bench.database import bench_database, machine
from bench.stats import Result

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


async def postgres_version() -> str:
    async with bench_database() as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()


def table(results: Sequence[Result]) -> str:
    lines = [
        "| benchmark | subject | rate (ops/s, median) | p50 ms | p99 ms | runs | target"
        " | verdict | ratios |",
        "|---|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.benchmark} | {r.subject} | {r.rate:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {r.runs} | {r.target} | {r.verdict} | {r.note} |"
        )
    return "\n".join(lines)


async def main() -> None:
    quick = bool(os.environ.get("BENCH_QUICK"))
    began = time.monotonic()
    results = await append.run(quick=quick)
    results += await rebuild.run(quick=quick)
    results += await http_mutations.run(quick=quick)
    results += await okr_tree.run(quick=quick)
    results += await audit_log.run(quick=quick)
    results += await kpi_history.run(quick=quick)
    results += await fanout.run(quick=quick)
    results += await saturation.run(quick=quick)
    where = "DATABASE_URL's server" if os.environ.get("DATABASE_URL") else "embedded PostgreSQL"
    header = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, Python "
        f"{platform.python_version()}, PostgreSQL {await postgres_version()} ({where}, same "
        f"machine){' — quick smoke run' if quick else ''}; {time.monotonic() - began:.0f} s in all."
    )
    body = REPORT.read_text() if REPORT.exists() else ""
    marker = "<!-- results -->"
    prologue = body.split(marker)[0] if marker in body else "# Benchmarks\n\n"
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(f"{prologue}{marker}\n\n{header}\n\n{table(results)}\n")
    print(table(results))


if __name__ == "__main__":
    asyncio.run(main())
