"""Production limits over real HTTP: depth, aliases, tokens and body size get clear errors.

A server with small limits, so that short documents cross them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from okrledger.infra.settings import Settings
from tests.e2e.server import serving

MAX_DEPTH, MAX_ALIASES, MAX_TOKENS, MAX_BYTES = 1, 3, 40, 2000


@pytest.fixture(scope="module")
async def tight_url(owner_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    settings = Settings(
        database_url=owner_dsn,
        pool_min_size=1,
        data_dir=tmp_path_factory.mktemp("tight"),
        graphql_max_depth=MAX_DEPTH,
        graphql_max_aliases=MAX_ALIASES,
        graphql_max_tokens=MAX_TOKENS,
        max_request_bytes=MAX_BYTES,
    )
    async with serving(settings) as url:
        yield url


@pytest.fixture
async def tight(tight_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=tight_url, timeout=30) as http:
        yield http


async def ask(client: httpx.AsyncClient, query: str) -> dict[str, object]:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def messages(body: dict[str, object]) -> str:
    errors = body.get("errors")
    assert isinstance(errors, list) and errors, body
    return " ".join(str(error["message"]) for error in errors)


async def test_a_query_deeper_than_the_limit_is_refused(tight: httpx.AsyncClient) -> None:
    too_deep = (
        'mutation { startCycle(input: {name: "Q", startsOn: "2026-10-01", endsOn: "2026-12-31"})'
        " { ... on StartCyclePayload { cycle { id } } } }"  # nests 2 below the root field
    )

    body = await ask(tight, too_deep)

    assert "exceeds maximum operation depth of 1" in messages(body)
    assert body.get("data") is None


async def test_too_many_aliases_are_refused(tight: httpx.AsyncClient) -> None:
    aliases = " ".join(f"a{i}: serverVersion" for i in range(MAX_ALIASES + 1))

    body = await ask(tight, f"{{ {aliases} }}")

    assert "aliases" in messages(body)


async def test_a_document_with_too_many_tokens_is_refused(tight: httpx.AsyncClient) -> None:
    fields = " ".join(["serverVersion"] * (MAX_TOKENS + 1))

    body = await ask(tight, f"{{ {fields} }}")

    assert f"more than {MAX_TOKENS} tokens" in messages(body)


async def test_a_body_over_the_size_limit_is_refused_with_413(tight: httpx.AsyncClient) -> None:
    padding = " " * MAX_BYTES

    response = await tight.post("/graphql", json={"query": f"{{ serverVersion {padding}}}"})

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_chunked_body_over_the_size_limit_is_refused_with_413(
    tight: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ serverVersion '
        for _ in range(MAX_BYTES // 500 + 1):
            yield b" " * 500
        yield b'}"}'

    response = await tight.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413


async def test_a_request_within_every_limit_is_answered(tight: httpx.AsyncClient) -> None:
    padding = " " * (MAX_BYTES // 2)

    response = await tight.post(
        "/graphql", json={"query": f"{{ a: serverVersion b: serverVersion {padding}}}"}
    )

    assert response.status_code == 200
    assert response.json()["data"]["a"]
