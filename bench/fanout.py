"""`goalEvents` fan-out: N WebSocket subscribers on one tenant, a write every 10 ms.

The server runs as its own process; this process holds the sockets (graphql-transport-ws,
the token in `connection_init`, through the lean client in bench/load.py, which leaves
decoding the messages until after the run) and sends a `checkInKeyResult` over HTTP every 10 ms. A
delivery's latency is its receive time minus the send time of the write that made the event
(matched by position). The peer in the same run is a single subscriber under the same writes.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
import orjson

from bench.database import bench_database
from bench.http_mutations import Api, seed_objectives, server
from bench.load import WebSocketClient
from bench.stats import Result, percentile, summarise

WRITE_EVERY = 0.010
DRAIN_SECONDS = 20.0
SUBSCRIBE = (
    "subscription($after: Int!) { goalEvents(afterPosition: $after) "
    "{ id type time position data } }"
)
CHECK_IN = (
    "mutation($o: UUID!, $k: UUID!, $v: Decimal!) { checkInKeyResult(input: {objectiveId: $o,"
    " keyResultId: $k, value: $v, confidence: ON_TRACK}) { __typename"
    " ... on CheckInKeyResultPayload { position } } }"
)


async def subscriber(url: str, token: str, after: int) -> WebSocketClient:
    """An acknowledged socket subscribed to the tenant's events after `after`."""
    ws = await WebSocketClient.open(url, "/graphql", "graphql-transport-ws")
    await ws.send(orjson.dumps({"type": "connection_init", "payload": {"token": token}}))
    ack = orjson.loads(await ws.receive())
    if ack["type"] != "connection_ack":
        raise RuntimeError(str(ack))
    payload = {"query": SUBSCRIBE, "variables": {"after": after}}
    await ws.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return ws


async def one_round(
    url: str, token: str, pairs: list[tuple[str, str]], after: int, sockets: int, seconds: float
) -> tuple[list[float], list[float], int, int]:
    """Each delivery's latency from the write's send and from the event's recorded time, the
    writes that landed, and the last position."""
    opened: list[WebSocketClient] = []
    for start in range(0, sockets, 50):  # connect in waves: no SYN storm on the listener
        opened += await asyncio.gather(
            *(subscriber(url, token, after) for _ in range(start, min(start + 50, sockets)))
        )
    writes = int(seconds / WRITE_EVERY)
    sent: dict[int, float] = {}
    failed: list[str] = []
    received: list[list[tuple[float, float, bytes | str]]] = [[] for _ in opened]

    async def read(n: int, ws: WebSocketClient) -> None:
        log = received[n]
        while len(log) < writes - len(failed):  # one event per check-in
            messages = await ws.receive_all()
            at, wall = time.perf_counter(), time.time()
            log.extend((at, wall, message) for message in messages)

    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:

        async def write(n: int) -> None:
            began = time.perf_counter()
            objective, key_result = pairs[n % len(pairs)]  # no two writes race on one stream
            try:
                response = await http.post(
                    "/graphql",
                    json={
                        "query": CHECK_IN,
                        "variables": {"o": objective, "k": key_result, "v": str(31 + n % 14)},
                    },
                )
            except httpx.TimeoutException:  # a write the server could not answer in time
                failed.append(f"timeout after {time.perf_counter() - began:.3f} s")
                return
            payload = response.json()["data"]["checkInKeyResult"]
            if "position" in payload:
                sent[payload["position"]] = began
            else:  # counted: the deliveries expected are those of the writes that landed
                failed.append(f"{payload['__typename']} after {time.perf_counter() - began:.3f} s")

        readers = [asyncio.create_task(read(n, ws)) for n, ws in enumerate(opened)]
        started = time.perf_counter()
        tasks = []
        for n in range(writes):
            await asyncio.sleep(max(0.0, started + n * WRITE_EVERY - time.perf_counter()))
            tasks.append(asyncio.create_task(write(n)))
        await asyncio.gather(*tasks)
        await asyncio.wait(readers, timeout=DRAIN_SECONDS)
        for task in readers:
            task.cancel()
    await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
    latencies, since_recorded = [], []
    for log in received:
        for at, wall, message in log:
            body: dict[str, Any] = orjson.loads(message)
            if body.get("type") != "next":
                continue
            event = body["payload"]["data"]["goalEvents"]
            if event["position"] in sent:
                latencies.append(at - sent[event["position"]])
                recorded = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
                since_recorded.append(wall - recorded.timestamp())
    if failed:
        print(f"{len(failed)} of {writes} writes failed, e.g. {failed[:3]}")
    return latencies, since_recorded, len(sent), max(sent, default=after)


async def run(quick: bool = False) -> list[Result]:
    sizes, seconds = ((1, 50, 100), 1.0) if quick else ((1, 100, 250, 500), 3.0)
    results: list[Result] = []
    async with bench_database() as dsn, server(dsn) as (url, token):
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as http:
            api = Api(http)
            pairs = await seed_objectives(api, 16)
            # Subscribe past the seed's events: only the measured writes are delivered.
            answer = await api(CHECK_IN, {"o": pairs[0][0], "k": pairs[0][1], "v": "31"})
            after = int(answer["checkInKeyResult"]["position"])
        floor = 1.0
        for size in sizes:
            latencies, since_recorded, writes, after = await one_round(
                url, token, pairs, after, size, seconds
            )
            expected = writes * size
            recorded_p99 = percentile(since_recorded, 0.99) * 1000
            lost = expected - len(latencies)
            line = summarise(
                "goalEvents fan-out",
                f"{size} subscriber{'s' if size > 1 else ''}, a write every 10 ms for "
                f"{seconds:.0f} s ({writes} writes)",
                [len(latencies) / seconds],
                latencies or [float("nan")],
            )
            if size == 1:
                floor = line.p99_ms
                results.append(replace(line, note=f"from recorded time: p99 {recorded_p99:.0f} ms"))
                continue
            results.append(
                Result(
                    line.benchmark,
                    line.subject,
                    line.rate,
                    line.p50_ms,
                    line.p99_ms,
                    line.runs,
                    "delivery p99 <= 100 ms" if size == 500 else "",
                    ("met" if line.p99_ms <= 100 and not lost else "missed") if size == 500 else "",
                    f"p99 {line.p99_ms / floor:.1f}x one subscriber; from recorded time: p99 "
                    f"{recorded_p99:.0f} ms; "
                    f"{len(latencies):,} of {expected:,} delivered within the run + "
                    f"{DRAIN_SECONDS:.0f} s",
                )
            )
    return results


if __name__ == "__main__":
    for result in asyncio.run(run(quick=bool(os.environ.get("BENCH_QUICK")))):
        print(result)
