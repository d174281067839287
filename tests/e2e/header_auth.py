"""TEST ONLY: a caller named by a header, standing in for verified JWTs in these tests.

`X-Test-Principal: subject;tenant;role,role`. The product never installs this; the
integrator replaces it with real signed tokens through the JWT backend.
"""

from __future__ import annotations

from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.requests import HTTPConnection

from okrledger.services.identity import Principal, Role

HEADER = "x-test-principal"


class PrincipalUser(SimpleUser):
    def __init__(self, principal: Principal) -> None:
        super().__init__(principal.subject)
        self.principal = principal


class HeaderAuth(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        raw = conn.headers.get(HEADER)
        if raw is None:
            return None
        subject, tenant_id, roles = raw.split(";")
        principal = Principal(
            subject, tenant_id, frozenset(Role(role) for role in roles.split(",") if role)
        )
        return AuthCredentials(["authenticated"]), PrincipalUser(principal)


def header_for(subject: str, tenant_id: str, *roles: Role) -> dict[str, str]:
    return {HEADER: f"{subject};{tenant_id};{','.join(role.value for role in roles)}"}
