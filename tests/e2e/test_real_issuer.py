"""With a real issuer configured the served app is no development issuer: it trusts only
the real issuer's keys and publishes no discovery document or JWKS of its own."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from okrledger.infra.auth import development_issuer
from okrledger.infra.settings import Settings
from tests.e2e.server import serving

ME = "{ me { subject roles } }"


class RealIssuer:
    """An identity provider's public face: discovery and a JWKS, and tokens it signs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.key = ECKey.generate_key("P-256", auto_kid=True)
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/keys", self._jwks),
            ]
        )

    async def _discovery(self, request: Request) -> JSONResponse:
        return JSONResponse({"issuer": self.url, "jwks_uri": f"{self.url}/keys"})

    async def _jwks(self, request: Request) -> JSONResponse:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    def token(self, tenant: str, subject: str, roles: list[str]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": "okrledger",
            "sub": subject,
            "client_id": "spa",
            "tenant_id": tenant,
            "roles": roles,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        header = {"alg": "ES256", "kid": self.key.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, self.key, algorithms=["ES256"])


@asynccontextmanager
async def serving_issuer() -> AsyncIterator[RealIssuer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    issuer = RealIssuer(f"http://127.0.0.1:{sock.getsockname()[1]}")
    config = uvicorn.Config(issuer.app, lifespan="off", log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise AssertionError("the issuer stopped before it started")
            await asyncio.sleep(0.02)
        yield issuer
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def issuer() -> AsyncIterator[RealIssuer]:
    async with serving_issuer() as issuer:
        yield issuer


@pytest.fixture
async def api(
    issuer: RealIssuer, api_settings: Settings, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = api_settings.model_copy(update={"data_dir": tmp_path, "oidc_issuer": issuer.url})
    async with serving(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_of_the_configured_issuer_is_accepted(
    api: httpx.AsyncClient, issuer: RealIssuer, tenant: str
) -> None:
    token = issuer.token(tenant, "ana", ["viewer"])

    response = await api.post("/graphql", json={"query": ME}, headers=bearer(token))

    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"] == {"subject": "ana", "roles": ["VIEWER"]}


async def test_a_development_token_naming_the_real_issuer_is_refused(
    api: httpx.AsyncClient, issuer: RealIssuer, tmp_path: Path, tenant: str
) -> None:
    # Given the key `okrledger token` signed with before the real issuer was configured
    before = Settings(data_dir=tmp_path, oidc_issuer=None, dev_issuer_url=issuer.url)
    token = development_issuer(before).mint(tenant, "mallory", ["admin"])

    response = await api.post("/graphql", json={"query": ME}, headers=bearer(token))

    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == "token signed with an unknown key"


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/.well-known/jwks.json"])
async def test_the_development_issuers_documents_are_not_served(
    api: httpx.AsyncClient, path: str
) -> None:
    response = await api.get(path)

    assert response.status_code == 404
