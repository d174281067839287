"""Mutations are limited per tenant and per token; queries are not; the limit says when to retry."""

from __future__ import annotations

import socket
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

from okrledger.infra.auth import BearerTokenBackend, unauthenticated_response
from okrledger.infra.dev_issuer import DevelopmentIssuer
from okrledger.infra.rate_limit import MutationLimits, RateLimitMiddleware, is_mutation
from okrledger.infra.tokens import TokenVerifier

from .conftest import Serve

MUTATION = {"query": "mutation { closeCycle(input: {cycleId: 1}) { __typename } }"}
QUERY = {"query": "{ serverVersion }"}


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"data": {"received": len(await request.body())}})


@pytest.fixture
def issuer(tmp_path: Path) -> DevelopmentIssuer:
    return DevelopmentIssuer.load_or_create(tmp_path, issuer="http://localhost", audience="okr")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def url(
    issuer: DevelopmentIssuer, clock: FrozenClock, serve: Serve, free_socket: socket.socket
) -> AsyncIterator[str]:
    verifier = TokenVerifier(issuer.key_source(), issuer=issuer.issuer, audience=issuer.audience)
    limits = MutationLimits(per_tenant_per_minute=60, per_token_per_minute=30, clock=clock)
    app = Starlette(
        routes=[Route("/graphql", echo, methods=["POST"])],
        middleware=[
            Middleware(
                AuthenticationMiddleware,
                backend=BearerTokenBackend(verifier),
                on_error=unauthenticated_response,
            ),
            Middleware(RateLimitMiddleware, limits=limits),
        ],
    )
    async with serve(app, free_socket):
        host, port = free_socket.getsockname()
        yield f"http://{host}:{port}/graphql"


def bearer(issuer: DevelopmentIssuer, tenant: str, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.mint(tenant, subject, ['editor'])}"}


async def test_a_token_past_its_burst_gets_429_with_retry_after(
    url: str, issuer: DevelopmentIssuer
) -> None:
    headers = bearer(issuer, "acme", "alice")
    async with httpx.AsyncClient() as http:
        codes = [
            (await http.post(url, json=MUTATION, headers=headers)).status_code for _ in range(5)
        ]
        refused = await http.post(url, json=MUTATION, headers=headers)

    assert codes == [200] * 5  # a burst of a tenth of the minute's allowance
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"
    assert refused.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 2}


async def test_the_allowance_refills_with_time(
    url: str, issuer: DevelopmentIssuer, clock: FrozenClock
) -> None:
    headers = bearer(issuer, "acme", "bob")
    async with httpx.AsyncClient() as http:
        for _ in range(5):
            await http.post(url, json=MUTATION, headers=headers)
        assert (await http.post(url, json=MUTATION, headers=headers)).status_code == 429
        clock.now += 2.0  # 30 a minute: one every two seconds
        assert (await http.post(url, json=MUTATION, headers=headers)).status_code == 200


async def test_queries_are_not_limited_and_bodies_pass_through_intact(
    url: str, issuer: DevelopmentIssuer
) -> None:
    headers = bearer(issuer, "acme", "carol")
    async with httpx.AsyncClient() as http:
        responses = [await http.post(url, json=QUERY, headers=headers) for _ in range(20)]

    assert {r.status_code for r in responses} == {200}
    assert responses[0].json()["data"]["received"] == len(
        httpx.Request("POST", url, json=QUERY).content
    )


async def test_one_tenants_flood_leaves_another_tenant_untouched(
    url: str, issuer: DevelopmentIssuer
) -> None:
    async with httpx.AsyncClient() as http:
        for subject in ("a", "b", "c"):
            for _ in range(4):
                await http.post(url, json=MUTATION, headers=bearer(issuer, "acme", subject))
        flooded = await http.post(url, json=MUTATION, headers=bearer(issuer, "acme", "d"))
        other = await http.post(url, json=MUTATION, headers=bearer(issuer, "globex", "a"))

    assert flooded.status_code == 429  # acme's tenant bucket (burst 10) is spent
    assert other.status_code == 200


def test_only_mutations_count_whatever_the_document_holds() -> None:
    document = "query Read { a } mutation Write { b }"
    assert is_mutation(b'{"query": "mutation { x }"}')
    assert not is_mutation(b'{"query": "{ x }"}')
    assert is_mutation(f'{{"query": "{document}", "operationName": "Write"}}'.encode())
    assert not is_mutation(f'{{"query": "{document}", "operationName": "Read"}}'.encode())
    assert not is_mutation(b"not json")
