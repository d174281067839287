"""A webhook receiver on 127.0.0.1 and the steps that register webhooks over the API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.e2e.server import Api

WEBHOOK = (
    "... on WebhookPayload { version position webhook { id url eventTypes description status "
    "pauseReason version pendingDeliveries } }"
)
SECRET = "... on WebhookSecretPayload { secret }"


@dataclass(frozen=True)
class Received:
    signature: str
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.body)
        return parsed


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def endpoint(self, request: Request) -> Response:
        signature = request.headers.get("okrledger-signature", "")
        self.received.append(Received(signature, await request.body()))
        self.arrived.set()
        return Response(status_code=204)

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(15):
            while not condition():
                self.arrived.clear()
                if condition():
                    return
                await self.arrived.wait()

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.received if r.event["type"] == event_type]


def verified(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does: recompute the HMAC over "<t>.<body>" and compare."""
    parts = [part.split("=", 1) for part in header.split(",")]
    timestamp = next(value for key, value in parts if key == "t")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return any(
        hmac.compare_digest(expected.hexdigest(), value) for key, value in parts if key == "v1"
    )


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    """A receiver answering 204 to every POST to its URL, until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    receiver = Receiver(f"http://{host}:{port}/hooks")
    app = Starlette(routes=[Route("/hooks", receiver.endpoint, methods=["POST"])])
    config = uvicorn.Config(app, lifespan="off", ws="none", http="h11", log_level="warning")
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await asyncio.wait_for(server.ready.wait(), timeout=10)
        yield receiver
    finally:
        server.should_exit = True
        await serving
        sock.close()


async def register(api: Api, url: str = "http://127.0.0.1:9/hooks", **extra: Any) -> dict[str, Any]:
    """Registers a webhook for cycle events (by default to a closed loopback port, where
    nothing is delivered unless a cycle starts); the payload with its `secret`."""
    result = await api.mutate(
        "registerWebhook", {"url": url, "eventTypes": ["okr.cycle.*"], **extra}, WEBHOOK + SECRET
    )
    assert result["__typename"] == "RegisterWebhookPayload", result
    return result
