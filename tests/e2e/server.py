"""The ASGI app served by uvicorn on 127.0.0.1, in the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from okrledger.infra.app import create_app
from okrledger.infra.auth import development_issuer
from okrledger.infra.dev_issuer import DevelopmentIssuer
from okrledger.infra.http_server import PROTOCOL
from okrledger.infra.settings import Settings
from okrledger.services.identity import Role


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(settings: Settings, app: Starlette | None = None) -> AsyncIterator[str]:
    """Serve the app (its own development issuer signs the tests' tokens); yields the base URL.

    Pass `app` (made by `create_app(settings)`) to reach its state while it serves.
    """
    port = free_port()
    config = uvicorn.Config(
        app or create_app(settings),
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="on",
        ws="websockets-sansio",
        http=PROTOCOL,  # as `okrledger serve` runs it
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise AssertionError("the server stopped before it started")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Api:
    """POSTs GraphQL as one caller (or anonymously) and returns the decoded response."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def mutate(self, name: str, input: dict[str, Any], selection: str) -> dict[str, Any]:
        """Run mutation `name` with `input`; the result object (payload or UserError)."""
        input_type = name[0].upper() + name[1:] + "Input"
        body = await self.post(
            f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename {selection} "
            "... on UserError { code message field } } }",
            {"input": input},
        )
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"][name]
        return result


class ApiClient(httpx.AsyncClient):
    """An HTTP client to the test server that can sign tokens with its development issuer."""

    def __init__(self, base_url: str, issuer: DevelopmentIssuer) -> None:
        super().__init__(base_url=base_url, timeout=30)
        self.issuer = issuer

    def bearer(self, tenant_id: str, subject: str, *roles: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.mint(tenant_id, subject, roles)}"}


def issuer_of(settings: Settings) -> DevelopmentIssuer:
    return development_issuer(settings)


def as_caller(client: ApiClient, tenant_id: str, *roles: Role) -> Api:
    subject = f"user-{'-'.join(r.value for r in roles)}"
    return Api(client, client.bearer(tenant_id, subject, *roles))
