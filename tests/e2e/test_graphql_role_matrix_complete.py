"""The role matrix over HTTP covers every root field of the committed schema: each mutation
and query is in one of the per-area tables (run for every role there), and the KPI reads,
which no table held, are run for every role here."""

from __future__ import annotations

from collections.abc import Mapping

import graphql
import pytest

from okrledger.graphql.sdl import SDL_PATH
from okrledger.services.identity import Role
from tests.e2e import test_graphql_kpi_permissions as kpi_permissions
from tests.e2e import test_graphql_permissions as goal_permissions
from tests.e2e import test_graphql_queries_permissions as read_permissions
from tests.e2e import test_graphql_webhook_permissions as webhook_permissions
from tests.e2e.server import Api, ApiClient, as_caller

SCHEMA = graphql.build_schema(SDL_PATH.read_text(encoding="utf-8"))
GOAL_READERS = read_permissions.GOAL_READERS
ANY_ID = read_permissions.ANY_ID

KPI_READS = {
    "kpi": f'{{ kpi(id: "{ANY_ID}") {{ id }} }}',
    "kpis": "{ kpis { edges { cursor } } }",
}
# Read by anyone, even without a token: nothing of a tenant's.
PUBLIC = {"serverVersion"}
# Covered in test_graphql_kpi_permissions: every role may subscribe.
SUBSCRIPTIONS = {"goalEvents"}


def test_every_mutation_is_in_a_role_matrix_table() -> None:
    assert SCHEMA.mutation_type is not None
    tables: list[Mapping[str, object]] = [
        goal_permissions.MUTATIONS,
        kpi_permissions.MUTATIONS,
        webhook_permissions.MUTATIONS,
    ]

    assert {name for table in tables for name in table} == set(SCHEMA.mutation_type.fields)


def test_every_query_and_subscription_is_in_a_role_matrix_table() -> None:
    assert SCHEMA.query_type is not None and SCHEMA.subscription_type is not None
    covered = (
        set(read_permissions.QUERIES) | set(webhook_permissions.READS) | set(KPI_READS)
        | {"events"} | PUBLIC
    )  # fmt: skip

    assert covered == set(SCHEMA.query_type.fields)
    assert set(SCHEMA.subscription_type.fields) == SUBSCRIPTIONS


@pytest.mark.parametrize(
    ("name", "role"),
    [pytest.param(name, role, id=f"{name}-{role.value}") for name in KPI_READS for role in Role],
)
async def test_each_role_may_read_kpis_exactly_as_the_matrix_says(
    client: ApiClient, tenant: str, name: str, role: Role
) -> None:
    body = await as_caller(client, tenant, role).post(KPI_READS[name])

    if role in GOAL_READERS:
        assert "errors" not in body, body
        assert name in body["data"]
    else:
        [error] = body["errors"]
        assert (error["extensions"]["code"], error["path"]) == ("FORBIDDEN", [name])


@pytest.mark.parametrize("name", list(KPI_READS))
async def test_a_kpi_read_without_a_token_is_unauthenticated(client: ApiClient, name: str) -> None:
    body = await Api(client, {}).post(KPI_READS[name])

    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
