"""Documents are costed as they would execute and refused before they run; answers say
their cost; an answer heavier than the byte budget is not sent."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.server import Api, ApiClient, serving
from tests.e2e.ws_steps import acknowledged, receive, socket

# Answered in milliseconds when refused up front; executing the 20-level chain took seconds.
QUICKLY = 1.0


def fragment_chain(levels: int) -> str:
    """Each fragment spreads the next one twice: executed, the work doubles per level."""
    fragments = [
        f"fragment F{n} on Query {{ __typename ...F{n + 1} ...F{n + 1} }}" for n in range(levels)
    ]
    return "\n".join(
        ["query { ...F0 }", *fragments, f"fragment F{levels} on Query {{ __typename }}"]
    )


async def ask(http: httpx.AsyncClient, query: str, **headers: str) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refused_as_too_complex(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", error
    extensions: dict[str, Any] = error["extensions"]
    return extensions


@pytest.mark.parametrize("levels", [20, 30])
async def test_a_doubling_fragment_chain_is_refused_in_milliseconds_as_too_complex(
    client: ApiClient, levels: int
) -> None:
    started = time.monotonic()
    body = await ask(client, fragment_chain(levels))
    took = time.monotonic() - started

    extensions = refused_as_too_complex(body)
    assert extensions["cost"] >= 2**levels > extensions["maxCost"]
    assert body["extensions"]["cost"] == extensions["cost"]
    assert took < QUICKLY, f"{took:.3f} s"


async def test_health_answers_while_fragment_chains_arrive(client: ApiClient) -> None:
    chains = [asyncio.create_task(ask(client, fragment_chain(30))) for _ in range(8)]
    started = time.monotonic()
    health = await client.get("/healthz")
    took = time.monotonic() - started

    answers = await asyncio.gather(*chains)
    assert health.json() == {"status": "ok"}
    assert took < QUICKLY, f"{took:.3f} s"
    assert all(refused_as_too_complex(a) for a in answers)


async def test_aliases_of_the_largest_audit_page_are_refused_before_they_run(
    editor: Api,
) -> None:
    page = "{ edges { node { reason changes { field from to } } } }"
    aliased = " ".join(f"a{n}: auditLog(first: 500) {page}" for n in range(30))

    body = await editor.post(f"{{ {aliased} }}")

    assert refused_as_too_complex(body)["cost"] > 30 * 500


async def test_first_given_in_a_variable_weighs_the_list_as_much_as_written_inline(
    editor: Api,
) -> None:
    page = "{ edges { node { id title } } pageInfo { hasNextPage } }"

    through_variable = await editor.post(
        f"query($n: Int!) {{ objectives(first: $n) {page} }}", {"n": 400}
    )
    inline = await editor.post(f"{{ objectives(first: 400) {page} }}")
    by_default = await editor.post(f"{{ objectives {page} }}")

    assert "errors" not in through_variable, through_variable
    assert through_variable["extensions"] == inline["extensions"] == {"cost": 1 + (1 + 400 * 3) + 2}
    assert by_default["extensions"] == {"cost": 1 + (1 + 50 * 3) + 2}


async def test_nested_lists_multiply_and_deep_nesting_of_pages_is_refused(editor: Api) -> None:
    nested = (
        "{ objectives(first: 500) { edges { node { children { children { children "
        "{ id title keyResults { id title } } } } } } } }"
    )

    body = await editor.post(nested)

    assert refused_as_too_complex(body)["cost"] > 500 * 10 * 10 * 10


async def test_an_ordinary_answer_reports_its_cost_over_http(editor: Api) -> None:
    body = await editor.post("{ serverVersion me { subject roles } }")

    assert "errors" not in body, body
    assert body["extensions"] == {"cost": 4}


async def test_an_ordinary_answer_reports_its_cost_over_the_websocket(
    client: ApiClient, api_url: str, tenant: str
) -> None:
    token = client.bearer(tenant, "ws-reader", Role.VIEWER)["Authorization"]
    async with socket(api_url, {"Authorization": token}) as connection:
        await acknowledged(connection)
        payload = {"query": "{ serverVersion me { subject } }"}
        await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        answer = await receive(connection)

    assert answer["type"] == "next", answer
    assert answer["payload"]["data"]["me"] == {"subject": "ws-reader"}
    assert answer["payload"]["extensions"] == {"cost": 3}


async def test_a_fragment_chain_over_the_websocket_gets_an_error_for_that_operation(
    client: ApiClient, api_url: str, tenant: str
) -> None:
    token = client.bearer(tenant, "ws-attacker", Role.VIEWER)["Authorization"]
    async with socket(api_url, {"Authorization": token}) as connection:
        await acknowledged(connection)
        payload = {"query": fragment_chain(30)}
        await connection.send(json.dumps({"id": "7", "type": "subscribe", "payload": payload}))
        answer = await receive(connection)

    assert (answer["type"], answer["id"]) == ("error", "7"), answer
    assert answer["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


RESPONSE_BUDGET = 300


@pytest.fixture(scope="module")
async def small_answers_url(
    owner_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    settings = Settings(
        database_url=owner_dsn,
        pool_min_size=1,
        data_dir=tmp_path_factory.mktemp("small-answers"),
        max_response_bytes=RESPONSE_BUDGET,
        webhook_worker=False,
    )
    async with serving(settings) as url:
        yield url


async def test_an_answer_over_the_byte_budget_is_replaced_by_an_error(
    small_answers_url: str,
) -> None:
    many = " ".join(f"v{n}: serverVersion" for n in range(30))
    async with httpx.AsyncClient(base_url=small_answers_url, timeout=30) as http:
        small = await ask(http, "{ serverVersion }")
        large = await ask(http, f"{{ {many} }}")

    assert small["data"]["serverVersion"]
    assert large["data"] is None
    [error] = large["errors"]
    assert error["extensions"] == {"code": "RESPONSE_TOO_LARGE", "maxBytes": RESPONSE_BUDGET}
    assert large["extensions"] == {"cost": 30}
