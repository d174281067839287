"""The Starlette authentication backend: bearer token in, principal (or a 401) out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from okrledger.infra.auth import BearerTokenBackend, principal_of, unauthenticated_response
from okrledger.infra.dev_issuer import DevelopmentIssuer
from okrledger.infra.tokens import TokenVerifier


async def whoami(request: Request) -> JSONResponse:
    principal = principal_of(request)
    if principal is None:
        return JSONResponse({"anonymous": True})
    return JSONResponse(
        {
            "subject": principal.subject,
            "tenant": principal.tenant_id,
            "roles": sorted(role.value for role in principal.roles),
        }
    )


@pytest.fixture
def issuer(tmp_path: Path) -> DevelopmentIssuer:
    return DevelopmentIssuer.load_or_create(
        tmp_path, issuer="http://localhost:8000", audience="okrledger"
    )


@pytest.fixture
async def client(issuer: DevelopmentIssuer) -> AsyncIterator[httpx.AsyncClient]:
    verifier = TokenVerifier(issuer.key_source(), issuer=issuer.issuer, audience=issuer.audience)
    app = Starlette(
        routes=[Route("/whoami", whoami)],
        middleware=[
            Middleware(
                AuthenticationMiddleware,
                backend=BearerTokenBackend(verifier),
                on_error=unauthenticated_response,
            )
        ],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_request_with_a_valid_bearer_token_carries_its_principal(
    client: httpx.AsyncClient, issuer: DevelopmentIssuer, tenant: str
) -> None:
    token = issuer.mint(tenant, "alice", ["editor"])

    response = await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == {"subject": "alice", "tenant": tenant, "roles": ["editor"]}


async def test_request_without_a_token_passes_as_anonymous(client: httpx.AsyncClient) -> None:
    response = await client.get("/whoami")

    assert response.status_code == 200
    assert response.json() == {"anonymous": True}


async def test_request_with_a_bad_token_gets_401_with_a_graphql_shaped_error(
    client: httpx.AsyncClient, issuer: DevelopmentIssuer, tenant: str
) -> None:
    token = issuer.mint(tenant, "alice", ["editor"])

    response = await client.get("/whoami", headers={"Authorization": f"Bearer {token[:-4]}"})

    assert response.status_code == 401
    assert response.json() == {
        "errors": [
            {
                "message": "token signature or encoding is invalid",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


async def test_authorization_header_of_another_scheme_gets_401(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/whoami", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
