"""Serving a small ASGI app over real HTTP on 127.0.0.1, inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
import uvicorn
from starlette.types import ASGIApp

Serve = Callable[[ASGIApp, socket.socket], AbstractAsyncContextManager[None]]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@asynccontextmanager
async def _serving(app: ASGIApp, sock: socket.socket) -> AsyncIterator[None]:
    config = uvicorn.Config(app, lifespan="off", ws="none", http="h11", log_level="warning")
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await asyncio.wait_for(server.ready.wait(), timeout=10)
        yield
    finally:
        server.should_exit = True
        await serving
        sock.close()


@pytest.fixture
def free_socket() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1, so a URL can be known before serving."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def serve() -> Serve:
    """`async with serve(app, free_socket):` serves `app` on that socket until the block ends."""
    return _serving
