"""A raw `graphql-transport-ws` client for the tests: init with a token, subscribe, read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

GOAL_EVENTS = (
    "subscription($after: Int!, $types: [String!]) { goalEvents(afterPosition: $after, "
    "types: $types) { id source type subject time position streamVersion data } }"
)


def ws_url(api_url: str) -> str:
    return api_url.replace("http://", "ws://") + "/graphql"


@asynccontextmanager
async def socket(
    api_url: str, init: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[ClientConnection]:
    """An open socket that has sent `connection_init` (with `init` as its payload)."""
    async with connect(
        ws_url(api_url),
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers=headers,
    ) as connection:
        message: dict[str, Any] = {"type": "connection_init"}
        if init is not None:
            message["payload"] = init
        await connection.send(json.dumps(message))
        yield connection


async def acknowledged(connection: ClientConnection) -> None:
    ack = json.loads(text(await connection.recv()))
    assert ack["type"] == "connection_ack", ack


async def subscribe(
    connection: ClientConnection, after: int = 0, types: list[str] | None = None, id: str = "1"
) -> None:
    payload = {"query": GOAL_EVENTS, "variables": {"after": after, "types": types}}
    await connection.send(json.dumps({"id": id, "type": "subscribe", "payload": payload}))


WAIT_SECONDS = 15


def text(frame: str | bytes) -> str:
    """The protocol's messages are text frames; browser clients drop binary ones."""
    assert isinstance(frame, str), f"a binary frame: {frame!r}"
    return frame


async def receive(connection: ClientConnection) -> dict[str, Any]:
    frame = await asyncio.wait_for(connection.recv(), WAIT_SECONDS)
    message: dict[str, Any] = json.loads(text(frame))
    return message


async def events(connection: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next `count` goal events; fails on any other message."""
    taken: list[dict[str, Any]] = []
    while len(taken) < count:
        message = await receive(connection)
        assert message["type"] == "next" and "errors" not in message["payload"], message
        taken.append(message["payload"]["data"]["goalEvents"])
    return taken
