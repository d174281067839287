"""Repeated reads are answered from the response cache, and never a stale or foreign answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from okrledger.domain.progress import pace
from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.counting import CountingBackend
from tests.e2e.okr_steps import add_key_result, set_objective, start_cycle
from tests.e2e.read_steps import check_in
from tests.e2e.server import ApiClient, as_caller, issuer_of, serving

TREE = """query($cycle: UUID!) { okrTree(cycle: $cycle) {
  judgedAt cycle { startsOn endsOn }
  objectives { id title rolledUpProgress pace keyResults { id current progress } } } }"""
HISTORY = """query($cycle: UUID!) { okrTree(cycle: $cycle) {
  objectives { id history { edges { node { eventType } } } } } }"""
CACHE = "x-okrledger-cache"


async def post(
    client: ApiClient, tenant: str, role: Role, query: str, **variables: Any
) -> httpx.Response:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=client.bearer(tenant, f"user-{role.value}", role),
    )
    assert response.status_code == 200, response.text
    return response


async def a_cycle_with_a_key_result(client: ApiClient, tenant: str) -> tuple[str, str, str]:
    """(cycle id, objective id, key result id) in `tenant`, written by an editor."""
    editor = as_caller(client, tenant, Role.EDITOR)
    cycle = await start_cycle(editor)
    objective = await set_objective(editor, cycle["id"])
    added = await add_key_result(editor, objective["id"])
    return cycle["id"], objective["id"], added["id"]


@pytest.fixture
async def counted_client(
    counted: tuple[str, CountingBackend], api_settings: Settings
) -> AsyncIterator[tuple[ApiClient, CountingBackend]]:
    url, backend = counted
    async with ApiClient(url, issuer_of(api_settings)) as http:
        yield http, backend


async def test_a_repeated_read_is_answered_from_the_cache_without_reading_the_read_models(
    counted_client: tuple[ApiClient, CountingBackend], tenant: str
) -> None:
    client, backend = counted_client
    cycle, _, _ = await a_cycle_with_a_key_result(client, tenant)

    first = await post(client, tenant, Role.VIEWER, TREE, cycle=cycle)
    backend.statements.clear()
    again = await post(client, tenant, Role.VIEWER, TREE, cycle=cycle)

    assert (first.headers[CACHE], again.headers[CACHE]) == ("miss", "hit")
    assert again.json() == first.json()
    assert again.json()["data"]["okrTree"]["objectives"][0]["keyResults"]
    assert backend.statements == []


async def test_a_write_in_the_tenant_makes_the_next_read_fresh(
    client: ApiClient, tenant: str
) -> None:
    cycle, objective, key_result = await a_cycle_with_a_key_result(client, tenant)
    await post(client, tenant, Role.VIEWER, TREE, cycle=cycle)
    await post(client, tenant, Role.VIEWER, TREE, cycle=cycle)

    await check_in(as_caller(client, tenant, Role.EDITOR), objective, key_result, "38")
    after = await post(client, tenant, Role.VIEWER, TREE, cycle=cycle)

    assert after.headers[CACHE] == "miss"
    [read] = after.json()["data"]["okrTree"]["objectives"][0]["keyResults"]
    assert (read["current"], read["progress"]) == ("38", "0.5")


async def test_another_tenants_read_of_the_same_query_is_never_answered_from_the_cache(
    client: ApiClient, tenant: str, other_tenant: str
) -> None:
    cycle, _, _ = await a_cycle_with_a_key_result(client, tenant)
    await post(client, tenant, Role.VIEWER, TREE, cycle=cycle)
    await post(client, tenant, Role.VIEWER, TREE, cycle=cycle)

    foreign = await post(client, other_tenant, Role.VIEWER, TREE, cycle=cycle)

    assert foreign.headers[CACHE] == "miss"
    assert foreign.json()["data"] == {"okrTree": None}


async def test_a_role_refused_a_field_is_refused_again_after_a_role_allowed_it_was_cached(
    client: ApiClient, tenant: str
) -> None:
    cycle, _, _ = await a_cycle_with_a_key_result(client, tenant)
    await post(client, tenant, Role.AUDITOR, HISTORY, cycle=cycle)
    allowed = await post(client, tenant, Role.AUDITOR, HISTORY, cycle=cycle)

    refused = await post(client, tenant, Role.EDITOR, HISTORY, cycle=cycle)

    assert allowed.headers[CACHE] == "hit"
    assert allowed.json()["data"]["okrTree"]["objectives"][0]["history"]["edges"]
    assert CACHE not in refused.headers  # an answer with errors is never stored
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_a_mutation_is_never_answered_from_the_cache(client: ApiClient, tenant: str) -> None:
    editor = as_caller(client, tenant, Role.EDITOR)
    cycle = await start_cycle(editor)
    query = (
        'mutation($c: UUID!) { setObjective(input: {cycleId: $c, title: "Grow", owner: "ana"})'
        " { ... on SetObjectivePayload { objective { id } } } }"
    )

    answers = [await post(client, tenant, Role.EDITOR, query, c=cycle["id"]) for _ in range(2)]

    ids = {a.json()["data"]["setObjective"]["objective"]["id"] for a in answers}
    assert len(ids) == 2
    assert all(CACHE not in a.headers for a in answers)


async def test_who_you_are_is_never_answered_from_another_callers_cached_answer(
    client: ApiClient, tenant: str
) -> None:
    query = "{ me { subject } }"
    for subject in ("ana", "ben"):
        response = await client.post(
            "/graphql",
            json={"query": query},
            headers=client.bearer(tenant, subject, Role.VIEWER),
        )
        assert response.json()["data"]["me"]["subject"] == subject
        assert CACHE not in response.headers


@pytest.fixture(scope="module")
async def one_second_buckets(
    api_settings: Settings,
) -> AsyncIterator[str]:
    settings = api_settings.model_copy(update={"pace_resolution_seconds": 1})
    async with serving(settings) as url:
        yield url


async def test_pace_in_a_cached_answer_is_judged_at_its_time_bucket_and_moves_on_with_time(
    one_second_buckets: str, api_settings: Settings, tenant: str
) -> None:
    async with ApiClient(one_second_buckets, issuer_of(api_settings)) as client:
        cycle, _, _ = await a_cycle_with_a_key_result(client, tenant)
        first = (await post(client, tenant, Role.VIEWER, TREE, cycle=cycle)).json()
        # Read until the next one-second bucket begins; no write happens meanwhile.
        later = first
        while later["data"]["okrTree"]["judgedAt"] == first["data"]["okrTree"]["judgedAt"]:
            await asyncio.sleep(0.2)
            later = (await post(client, tenant, Role.VIEWER, TREE, cycle=cycle)).json()

    for answer in (first, later):
        tree = answer["data"]["okrTree"]
        judged_at = datetime.fromisoformat(tree["judgedAt"])
        assert judged_at.microsecond == 0 and judged_at <= datetime.now(UTC)
        starts_on = date.fromisoformat(tree["cycle"]["startsOn"])
        ends_on = date.fromisoformat(tree["cycle"]["endsOn"])
        for objective in tree["objectives"]:
            expected = pace(Decimal(objective["rolledUpProgress"]), starts_on, ends_on, judged_at)
            assert objective["pace"] == expected.value
    assert later["data"]["okrTree"]["judgedAt"] > first["data"]["okrTree"]["judgedAt"]
