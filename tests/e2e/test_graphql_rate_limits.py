"""Budgets per minute, charged where the operation is known: every mutation field counts,
however the request is spelled and whichever way it comes (HTTP or WebSocket), and
replicas on one Redis spend one budget."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.served import ServedProcess
from tests.e2e.server import ApiClient, issuer_of, serving
from tests.e2e.ws_steps import acknowledged, receive, socket

PER_TOKEN = 6
QUERY_COST_PER_TENANT = 60
REDIS = "redis://127.0.0.1:6379/0"


def closing(count: int) -> str:
    """`count` mutations in one document; each refers to no cycle, so none changes anything."""
    fields = " ".join(
        f'c{n}: closeCycle(input: {{cycleId: "{uuid.uuid4()}"}}) {{ __typename }}'
        for n in range(count)
    )
    return f"mutation {{ {fields} }}"


@pytest.fixture(scope="module")
async def limited_server(
    owner_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, Settings]]:
    settings = Settings(
        database_url=owner_dsn,
        pool_min_size=1,
        data_dir=tmp_path_factory.mktemp("limited"),
        tenant_mutations_per_minute=0,
        token_mutations_per_minute=PER_TOKEN,
        tenant_query_cost_per_minute=QUERY_COST_PER_TENANT,
        response_cache_bytes=0,
        webhook_worker=False,
    )
    async with serving(settings) as url:
        yield url, settings


@pytest.fixture
def limited(limited_server: tuple[str, Settings]) -> str:
    return limited_server[0]


@pytest.fixture
async def caller(
    limited_server: tuple[str, Settings], tenant: str
) -> AsyncIterator[tuple[ApiClient, dict[str, str]]]:
    url, settings = limited_server
    async with ApiClient(url, issuer_of(settings)) as http:
        yield http, http.bearer(tenant, "limited-editor", Role.EDITOR)


async def raw(http: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await http.post(
        "/graphql", content=body, headers={**headers, "content-type": "application/json"}
    )


def code_of(response: httpx.Response) -> str | None:
    errors = response.json().get("errors") or [{}]
    code: str | None = errors[0].get("extensions", {}).get("code")
    return code


async def test_mutations_spelled_with_json_escapes_spend_the_budget(
    caller: tuple[ApiClient, dict[str, str]],
) -> None:
    http, headers = caller
    escaped = json.dumps({"query": closing(1)}).replace("mutation", "\\u006dutation").encode()
    assert b"mutation" not in escaped

    answers = [await raw(http, escaped, headers) for _ in range(PER_TOKEN + 1)]

    assert [a.status_code for a in answers] == [200] * PER_TOKEN + [429]
    assert code_of(answers[-1]) == "RATE_LIMITED"
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    retry = answers[-1].json()["errors"][0]["extensions"]["retryAfter"]
    assert retry == int(answers[-1].headers["retry-after"])


async def test_mutations_behind_a_byte_order_mark_spend_the_budget(
    caller: tuple[ApiClient, dict[str, str]],
) -> None:
    http, headers = caller
    marked = b"\xef\xbb\xbf" + json.dumps({"query": closing(1)}).encode()

    answers = [await raw(http, marked, headers) for _ in range(PER_TOKEN + 1)]

    codes = [a.status_code for a in answers]
    # Read as JSON (as now), the mark buys nothing; refused as malformed, nothing runs.
    assert codes in ([200] * PER_TOKEN + [429], [400] * (PER_TOKEN + 1)), codes


async def test_every_mutation_field_of_one_document_counts(
    caller: tuple[ApiClient, dict[str, str]],
) -> None:
    http, headers = caller

    too_many = await http.post("/graphql", json={"query": closing(PER_TOKEN + 1)}, headers=headers)
    most = await http.post("/graphql", json={"query": closing(PER_TOKEN - 1)}, headers=headers)
    two_more = await http.post("/graphql", json={"query": closing(2)}, headers=headers)
    the_last = await http.post("/graphql", json={"query": closing(1)}, headers=headers)

    assert (too_many.status_code, code_of(too_many)) == (429, "RATE_LIMITED")
    assert most.status_code == 200 and "errors" not in most.json(), most.text
    assert (two_more.status_code, code_of(two_more)) == (429, "RATE_LIMITED")
    assert the_last.status_code == 200


async def test_mutations_over_the_websocket_spend_the_same_budget_as_over_http(
    caller: tuple[ApiClient, dict[str, str]], limited: str
) -> None:
    http, headers = caller
    over_http = await http.post("/graphql", json={"query": closing(2)}, headers=headers)
    assert over_http.status_code == 200

    answers: list[dict[str, Any]] = []
    async with socket(limited, {"Authorization": headers["Authorization"]}) as connection:
        await acknowledged(connection)
        for n in range(PER_TOKEN - 1):
            payload = {"query": closing(1)}
            await connection.send(
                json.dumps({"id": str(n), "type": "subscribe", "payload": payload})
            )
            answers.append(await receive(connection))
            if answers[-1]["type"] == "next":
                assert (await receive(connection))["type"] == "complete"

    assert [a["type"] for a in answers] == ["next"] * (PER_TOKEN - 2) + ["error"]
    refused = answers[-1]
    assert refused["id"] == str(PER_TOKEN - 2)
    assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert refused["payload"][0]["extensions"]["retryAfter"] >= 1


async def test_queries_spend_a_tenant_budget_of_cost(
    caller: tuple[ApiClient, dict[str, str]],
) -> None:
    http, headers = caller
    query = {"query": "{ me { subject tenantId roles capabilities } }"}  # costs 5

    answers = [await http.post("/graphql", json=query, headers=headers) for _ in range(13)]

    assert answers[0].json()["extensions"] == {"cost": 5}
    assert [a.status_code for a in answers] == [200] * 12 + [429]
    assert code_of(answers[-1]) == "RATE_LIMITED"


@pytest.fixture
def redis_budget() -> str:
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    finally:
        client.close()
    return REDIS


async def test_two_servers_on_one_redis_share_one_budget(
    redis_budget: str, owner_dsn: str, tmp_path: Path, tenant: str
) -> None:
    environment = {
        "OKRLEDGER_TOKEN_MUTATIONS_PER_MINUTE": str(PER_TOKEN),
        "OKRLEDGER_RATE_LIMIT_STORAGE": redis_budget,
        "OKRLEDGER_WEBHOOK_WORKER": "0",
    }
    servers = [ServedProcess(tmp_path / "data", owner_dsn, extra_env=environment) for _ in range(2)]
    servers[0].start()
    try:
        await servers[0].wait_ready()  # the first makes the data directory and its key
        servers[1].start()
        await servers[1].wait_ready()
        headers = servers[0].bearer(tenant, "replicated-editor", Role.EDITOR)
        codes = []
        async with httpx.AsyncClient(timeout=30) as http:
            # The tenant is new to Redis: its budget is full, and only this test spends it.
            for n in range(PER_TOKEN + 2):
                server = servers[n % 2]
                answer = await http.post(
                    f"{server.url}/graphql", json={"query": closing(1)}, headers=headers
                )
                codes.append(answer.status_code)
    finally:
        for server in servers:
            server.stop()

    assert codes == [200] * PER_TOKEN + [429, 429]
