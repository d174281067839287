"""The caller as the server sees it: who, which tenant, which roles and capabilities."""

from __future__ import annotations

from typing import Self

import strawberry

from okrledger.graphql.permissions import ROLE_MATRIX, Capability
from okrledger.services.identity import Principal, Role

strawberry.enum(Role, description="What a token's holder is, as named in its roles claim.")
strawberry.enum(Capability, description="What a caller may do (see the role matrix).")


@strawberry.type(description="The verified caller.")
class Me:
    subject: str = strawberry.field(description="Recorded as the actor of your changes.")
    tenant_id: str
    roles: list[Role]
    capabilities: list[Capability] = strawberry.field(
        description="Everything your roles allow; an SPA can hide what you cannot do."
    )

    @classmethod
    def of(cls, principal: Principal) -> Self:
        return cls(
            subject=principal.subject,
            tenant_id=principal.tenant_id,
            roles=sorted(principal.roles, key=lambda r: r.value),
            capabilities=[c for c, roles in ROLE_MATRIX.items() if principal.has(*roles)],
        )
