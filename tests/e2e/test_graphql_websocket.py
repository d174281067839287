"""`graphql-transport-ws` on /graphql: the handshake and an operation over the socket."""

from __future__ import annotations

import json

from websockets.asyncio.client import connect


async def test_graphql_transport_ws_acknowledges_and_answers_an_operation(api_url: str) -> None:
    ws_url = api_url.replace("http://", "ws://") + "/graphql"

    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init"}))
        ack = json.loads(await socket.recv())
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ serverVersion }"}})
        )
        answer = json.loads(await socket.recv())
        done = json.loads(await socket.recv())

    assert ack["type"] == "connection_ack"
    assert answer["type"] == "next"
    assert answer["payload"]["data"]["serverVersion"]
    assert done == {"id": "1", "type": "complete"}


async def test_an_anonymous_mutation_over_the_socket_is_unauthenticated(api_url: str) -> None:
    ws_url = api_url.replace("http://", "ws://") + "/graphql"
    mutation = (
        'mutation { startCycle(input: {name: "Q", startsOn: "2026-10-01", endsOn: "2026-12-31"})'
        " { __typename } }"
    )

    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init"}))
        await socket.recv()
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": mutation}})
        )
        answer = json.loads(await socket.recv())

    assert answer["type"] == "next"
    assert answer["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
