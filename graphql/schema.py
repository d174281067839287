"""The GraphQL schema: root Query, Mutation and Subscription composed from the features."""

from __future__ import annotations

from importlib.metadata import version

import strawberry

from okrledger.graphql.errors import ERROR_TYPES
from okrledger.graphql.limits import Limits, schema_extensions
from okrledger.graphql.masking import ObservedSchema
from okrledger.graphql.mutations.cycles import CycleMutations
from okrledger.graphql.mutations.key_results import KeyResultMutations
from okrledger.graphql.mutations.objectives import ObjectiveMutations
from okrledger.graphql.mutations.okr_policy import OkrPolicyMutations


@strawberry.type(description="Read access to the tenant's OKRs, KPIs and their history.")
class Query:
    @strawberry.field(description="The version of the okrledger server answering.")
    def server_version(self) -> str:
        return version("okrledger")


@strawberry.type(description="One mutation per command; expected refusals are typed results.")
class Mutation(CycleMutations, ObjectiveMutations, KeyResultMutations, OkrPolicyMutations):
    pass


def build_schema(limits: Limits | None = None) -> strawberry.Schema:
    """The schema with the production limits and error masking installed."""
    return ObservedSchema(
        query=Query,
        mutation=Mutation,
        types=ERROR_TYPES,
        extensions=schema_extensions(limits or Limits()),
    )


schema = build_schema()
