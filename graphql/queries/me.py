"""me: the verified caller (any role; no token is UNAUTHENTICATED)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from okrledger.graphql.context import Context
from okrledger.graphql.types.me import Me


@strawberry.type
class MeQueries:
    @strawberry.field(description="Who you are to this server: tenant, roles and capabilities.")
    def me(self, info: Info[Context, None]) -> Me:
        return Me.of(info.context.caller())
