"""Bulk KPI ingestion alone: recordKpiReadings in batches of 5,000 against `okrledger serve`.

The same measurement as the bulk line of bench/http_mutations.py, without the rest of
that benchmark; `BENCH_PAUSE` (seconds) waits before the batches, to attach a profiler
to the server (its pid is printed).
"""

from __future__ import annotations

import asyncio
import os

import httpx

from bench.database import bench_database
from bench.http_mutations import Api, _bulk, seed_kpis, server
from bench.stats import Result


async def run(quick: bool = False) -> list[Result]:
    async with bench_database() as dsn, server(dsn) as (url, token):
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as http:
            (kpi_id,) = await seed_kpis(Api(http), 1)
        pause = float(os.environ.get("BENCH_PAUSE", "0"))
        if pause:
            print(f"batches start in {pause:g} s", flush=True)
            await asyncio.sleep(pause)
        return [await _bulk(url, token, kpi_id, batches=3 if quick else 10)]


if __name__ == "__main__":
    for result in asyncio.run(run(quick=bool(os.environ.get("BENCH_QUICK")))):
        print(result)
