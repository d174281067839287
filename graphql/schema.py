"""The GraphQL schema: root Query, Mutation and Subscription composed from the features."""

from __future__ import annotations

from importlib.metadata import version

import strawberry


@strawberry.type(description="Read access to the tenant's OKRs, KPIs and their history.")
class Query:
    @strawberry.field(description="The version of the okrledger server answering.")
    def server_version(self) -> str:
        return version("okrledger")


schema = strawberry.Schema(query=Query)
