"""Browser origins: CORS on HTTP, and the same list for WebSocket handshakes.

These hold without a browser; tests/e2e/test_dev_console.py shows Chromium obeying them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin, Subprotocol

from okrledger.infra.settings import Settings
from tests.e2e.server import serving
from tests.e2e.ws_steps import acknowledged, ws_url

ALLOWED = "https://okr.example.com"
OTHER = "https://elsewhere.example.net"
PROTOCOL = [Subprotocol("graphql-transport-ws")]


@pytest.fixture(scope="module")
async def spa_api(api_settings: Settings) -> AsyncIterator[str]:
    async with serving(api_settings.model_copy(update={"cors_origins": [ALLOWED]})) as url:
        yield url


async def preflight(api_url: str, origin: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=api_url) as client:
        return await client.options(
            "/graphql",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )


async def test_a_preflight_from_an_allowed_origin_allows_the_bearer_header(spa_api: str) -> None:
    response = await preflight(spa_api, ALLOWED)

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


async def test_a_preflight_from_another_origin_is_refused(spa_api: str) -> None:
    response = await preflight(spa_api, OTHER)

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_websocket_from_an_allowed_origin_is_acknowledged(spa_api: str) -> None:
    async with connect(ws_url(spa_api), origin=Origin(ALLOWED), subprotocols=PROTOCOL) as socket:
        await socket.send(json.dumps({"type": "connection_init"}))
        await acknowledged(socket)


async def test_a_websocket_from_another_origin_is_refused_at_the_handshake(spa_api: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url(spa_api), origin=Origin(OTHER), subprotocols=PROTOCOL):
            pass

    assert refused.value.response.status_code == 403
