"""Bearer-token authentication for Starlette, and building the verifier from settings.

Wiring (composition root):

    auth = build_auth(settings, http_client)
    middleware = [Middleware(AuthenticationMiddleware, backend=BearerTokenBackend(auth.verifier),
                             on_error=unauthenticated_response)]
    if auth.development_issuer:   # serve its discovery document and JWKS
        routes += development_issuer_routes(auth.development_issuer)

A request without an Authorization header passes as anonymous (`principal_of` returns None);
one with a bad token is answered 401 before it reaches GraphQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
)
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from okrledger.infra.dev_issuer import (
    DISCOVERY_PATH,
    JWKS_PATH,
    DevelopmentIssuer,
    development_issuer_url,
)
from okrledger.infra.jwks import RemoteKeys
from okrledger.infra.settings import Settings
from okrledger.infra.tokens import ClaimNames, InvalidToken, TokenVerifier
from okrledger.services.identity import Principal

ISSUER_URL_FILE = "dev-issuer-url"


class DevelopmentIssuerDisabled(RuntimeError):
    """Development tokens are refused while a real issuer (OIDC_ISSUER/JWKS_URL) is configured."""


class AuthenticatedPrincipal(BaseUser):
    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.principal.subject

    @property
    def identity(self) -> str:
        return self.principal.subject


class BearerTokenBackend(AuthenticationBackend):
    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        authorization = conn.headers.get("Authorization")
        if authorization is None:
            return None
        try:
            principal = await verify_authorization(self._verifier, authorization)
        except InvalidToken as error:
            raise AuthenticationError(error.reason) from error
        scopes = ["authenticated", *sorted(role.value for role in principal.roles)]
        return AuthCredentials(scopes), AuthenticatedPrincipal(principal)


async def verify_authorization(verifier: TokenVerifier, authorization: str) -> Principal:
    """The principal of an `Authorization` value ("Bearer <token>"), e.g. from a WebSocket's
    connection_init payload, where browsers cannot set headers."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("expected 'Authorization: Bearer <token>'")
    return await verifier.verify(token.strip())


def principal_of(conn: HTTPConnection) -> Principal | None:
    """The verified caller of a request, or None for an anonymous one."""
    user = conn.scope.get("user")
    return user.principal if isinstance(user, AuthenticatedPrincipal) else None


def unauthenticated_response(conn: HTTPConnection, error: AuthenticationError) -> JSONResponse:
    """The 401 a bad token gets, shaped like a GraphQL error so clients parse one format."""
    reason = str(error)
    return JSONResponse(
        {"errors": [{"message": reason, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
    )


@dataclass(frozen=True)
class Auth:
    verifier: TokenVerifier
    development_issuer: DevelopmentIssuer | None


def build_auth(settings: Settings, http_client: httpx.AsyncClient) -> Auth:
    """The verifier the settings call for; a development issuer only when no issuer is set."""
    claims = ClaimNames(tenant=settings.tenant_claim, roles=settings.roles_claim)
    if settings.development_issuer_enabled:
        issuer = development_issuer(settings)
        verifier = TokenVerifier(
            issuer.key_source(),
            issuer=issuer.issuer,
            audience=settings.audience,
            leeway=settings.token_leeway_seconds,
            claims=claims,
        )
        return Auth(verifier=verifier, development_issuer=issuer)
    assert settings.oidc_issuer is not None  # Settings refuses JWKS_URL alone
    keys = RemoteKeys(
        http_client,
        issuer=settings.oidc_issuer,
        jwks_url=settings.jwks_url,
        refresh_interval=settings.jwks_refresh_interval_seconds,
        max_age=settings.jwks_max_age_seconds,
    )
    verifier = TokenVerifier(
        keys,
        issuer=settings.oidc_issuer,
        audience=settings.audience,
        leeway=settings.token_leeway_seconds,
        claims=claims,
    )
    return Auth(verifier=verifier, development_issuer=None)


def development_issuer(settings: Settings) -> DevelopmentIssuer:
    """The data directory's development issuer (for `okrledger token`); refused with a real one."""
    if not settings.development_issuer_enabled:
        raise DevelopmentIssuerDisabled(
            "a real issuer is configured (OIDC_ISSUER/JWKS_URL); development tokens are off"
        )
    url = settings.dev_issuer_url or _remembered_issuer_url(settings)
    return DevelopmentIssuer.load_or_create(
        settings.data_dir, issuer=url, audience=settings.audience
    )


def _remembered_issuer_url(settings: Settings) -> str:
    """The dev issuer's URL as first chosen for this data directory.

    `okrledger token` and `okrledger serve --port N` must agree on `iss` whatever
    ports they were given, so the first one to need it writes it down.
    """
    remembered = settings.data_dir / ISSUER_URL_FILE
    try:
        return remembered.read_text().strip()
    except FileNotFoundError:
        url = development_issuer_url(settings.host, settings.port)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        remembered.write_text(url + "\n")
        return url


def development_issuer_routes(issuer: DevelopmentIssuer) -> list[Route]:
    """Its OIDC discovery document and JWKS, for the app to serve while it is its own issuer."""
    documents = issuer.documents()

    async def discovery(request: Request) -> JSONResponse:
        return JSONResponse(documents.openid_configuration)

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(documents.jwks, headers={"Cache-Control": "public, max-age=300"})

    return [Route(DISCOVERY_PATH, discovery), Route(JWKS_PATH, jwks)]
