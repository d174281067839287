"""Access tokens checked against a real issuer: OIDC discovery and a JWKS served over HTTP.

Every test gets its own issuer (a tiny Starlette app under uvicorn on 127.0.0.1, in the test's
event loop) and its own verifier, which finds the keys by discovery as in production.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from okrledger.infra.auth import build_auth
from okrledger.infra.jwks import RemoteKeys
from okrledger.infra.settings import Settings
from okrledger.infra.tokens import ClaimNames, InvalidToken, TokenVerifier
from okrledger.services.identity import Principal, Role

AUDIENCE = "okrledger"
# The `serve` fixture (tests/integration/conftest.py): serve an ASGI app on a bound socket.
Serve = Callable[[Any, socket.socket], AbstractAsyncContextManager[None]]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64_json(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value).encode())


def _unb64_json(segment: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


class Issuer:
    """An authorization server's public face: discovery and a JWKS that can rotate."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.signing_key: ECKey | RSAKey = ECKey.generate_key("P-256", auto_kid=True)
        self.published: list[ECKey | RSAKey] = [self.signing_key]
        self.jwks_requests = 0
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/keys", self._jwks),
            ]
        )

    async def _discovery(self, request: Request) -> JSONResponse:
        return JSONResponse({"issuer": self.url, "jwks_uri": f"{self.url}/keys"})

    async def _jwks(self, request: Request) -> JSONResponse:
        self.jwks_requests += 1
        return JSONResponse({"keys": [key.as_dict(private=False) for key in self.published]})

    def rotate(self, key: ECKey | RSAKey | None = None) -> None:
        """Sign with a new key from now on and publish only it (the old key is retired)."""
        self.signing_key = key or ECKey.generate_key("P-256", auto_kid=True)
        self.published = [self.signing_key]

    def claims(self, tenant: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "alice",
            "client_id": "spa",
            "tenant_id": tenant,
            "roles": ["editor"],
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def sign(self, claims: dict[str, Any], key: ECKey | RSAKey | None = None, **header: Any) -> str:
        key = key or self.signing_key
        algorithm = "RS256" if isinstance(key, RSAKey) else "ES256"
        full_header = {"alg": algorithm, "kid": key.kid, "typ": "at+jwt", **header}
        return jwt.encode(full_header, claims, key, algorithms=[full_header["alg"]])

    def token(self, tenant: str, **overrides: Any) -> str:
        return self.sign(self.claims(tenant, **overrides))


@pytest.fixture
async def issuer(serve: Serve, free_socket: socket.socket) -> AsyncIterator[Issuer]:
    issuer = Issuer(f"http://127.0.0.1:{free_socket.getsockname()[1]}")
    async with serve(issuer.app, free_socket):
        yield issuer


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def _verifier(issuer: Issuer, http: httpx.AsyncClient, refresh: float = 60.0) -> TokenVerifier:
    keys = RemoteKeys(http, issuer=issuer.url, refresh_interval=refresh)
    return TokenVerifier(keys, issuer=issuer.url, audience=AUDIENCE, leeway=0)


async def _refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(InvalidToken) as refusal:
        await verifier.verify(token)
    return refusal.value.reason


async def test_valid_token_gives_subject_tenant_roles_and_client(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant, roles=["editor", "auditor"])

    principal = await _verifier(issuer, http).verify(token)

    assert principal == Principal(
        subject="alice",
        tenant_id=tenant,
        roles=frozenset({Role.EDITOR, Role.AUDITOR}),
        client_id="spa",
    )


async def test_rs256_token_from_an_rsa_key_is_accepted(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    issuer.rotate(RSAKey.generate_key(2048, auto_kid=True))

    principal = await _verifier(issuer, http).verify(issuer.token(tenant))

    assert principal.tenant_id == tenant


async def test_roles_as_space_separated_string_are_understood(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant, roles="viewer integrator offline_access")

    principal = await _verifier(issuer, http).verify(token)

    assert principal.roles == frozenset({Role.VIEWER, Role.INTEGRATOR})


async def test_jwks_url_alone_skips_discovery(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    keys = RemoteKeys(http, jwks_url=f"{issuer.url}/keys")
    verifier = TokenVerifier(keys, issuer=issuer.url, audience=AUDIENCE)

    principal = await verifier.verify(issuer.token(tenant))

    assert principal.subject == "alice"


async def test_expired_token_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    now = int(time.time())
    token = issuer.token(tenant, iat=now - 600, exp=now - 60)

    assert await _refused(_verifier(issuer, http), token) == "token expired"


async def test_a_remembered_token_is_refused_once_it_expires(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    verifier = _verifier(issuer, http)
    expires = time.time() + 1.5
    token = issuer.token(tenant, exp=int(expires) + 1)
    first = await verifier.verify(token)
    assert await verifier.verify(token) == first

    await asyncio.sleep(int(expires) + 1 - time.time() + 0.1)

    assert await _refused(verifier, token) == "token expired"


async def test_expiry_within_the_clock_skew_leeway_is_tolerated(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    keys = RemoteKeys(http, issuer=issuer.url)
    verifier = TokenVerifier(keys, issuer=issuer.url, audience=AUDIENCE, leeway=30)
    now = int(time.time())

    principal = await verifier.verify(issuer.token(tenant, iat=now - 600, exp=now - 10))

    assert principal.tenant_id == tenant


async def test_token_not_yet_valid_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant, nbf=int(time.time()) + 120)

    assert await _refused(_verifier(issuer, http), token) == "token not yet valid"


async def test_token_from_another_issuer_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant, iss="https://evil.example")

    assert await _refused(_verifier(issuer, http), token) == "token from another issuer"


async def test_token_for_another_audience_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant, aud="some-other-api")

    assert await _refused(_verifier(issuer, http), token) == "token meant for another audience"


async def test_token_naming_several_audiences_one_of_them_ours_is_accepted(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant, aud=["https://id.example.com/userinfo", AUDIENCE])

    assert (await _verifier(issuer, http).verify(token)).tenant_id == tenant


async def test_token_signed_with_a_key_the_issuer_never_published_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    stranger = ECKey.generate_key("P-256", auto_kid=True)
    token = issuer.sign(issuer.claims(tenant), key=stranger)

    assert await _refused(_verifier(issuer, http), token) == "token signed with an unknown key"


async def test_unsigned_token_with_alg_none_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    header = {"alg": "none", "kid": issuer.signing_key.kid, "typ": "at+jwt"}
    token = f"{_b64_json(header)}.{_b64_json(issuer.claims(tenant, roles=['admin']))}.x"

    reason = await _refused(_verifier(issuer, http), token)

    assert reason.startswith("signing algorithm not accepted")


async def test_hs256_token_keyed_with_the_issuers_public_key_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    # The classic confusion attack: HMAC "signed" with the public key everyone can download.
    public_pem = issuer.signing_key.as_pem(private=False)
    header = {"alg": "HS256", "kid": issuer.signing_key.kid, "typ": "at+jwt"}
    signing_input = f"{_b64_json(header)}.{_b64_json(issuer.claims(tenant, roles=['admin']))}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{_b64(mac)}"

    reason = await _refused(_verifier(issuer, http), token)

    assert reason.startswith("signing algorithm not accepted")


async def test_token_whose_payload_was_changed_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    header, _, signature = issuer.token(tenant).split(".")
    forged = _b64_json(issuer.claims("another-tenant"))

    reason = await _refused(_verifier(issuer, http), f"{header}.{forged}.{signature}")

    assert reason == "token signature or encoding is invalid"


async def test_valid_token_with_its_roles_claim_raised_to_admin_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    header, payload, signature = issuer.token(tenant, roles=["viewer"]).split(".")
    claims = _unb64_json(payload)
    claims["roles"] = ["admin"]

    token = f"{header}.{_b64_json(claims)}.{signature}"

    assert (
        await _refused(_verifier(issuer, http), token) == "token signature or encoding is invalid"
    )


async def test_truncated_token_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant)
    verifier = _verifier(issuer, http)

    assert await _refused(verifier, token[: len(token) - 10]) == (
        "token signature or encoding is invalid"
    )
    assert await _refused(verifier, token.rpartition(".")[0]) == "malformed token"


async def test_oversized_token_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant, padding="x" * 20_000)

    assert await _refused(_verifier(issuer, http), token) == "token too large"


async def test_token_without_a_tenant_claim_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.sign(issuer.claims(tenant, tenant_id=None))

    assert await _refused(_verifier(issuer, http), token) == "token has no tenant_id claim"


@pytest.mark.parametrize(
    "tenant_claim",
    ["ACME'; DROP TABLE events", "demo\n", "demo\r\n", "\ndemo", "demo ", "", "x" * 64, 42],
)
async def test_token_whose_tenant_is_not_a_valid_tenant_id_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str, tenant_claim: object
) -> None:
    token = issuer.sign(issuer.claims(tenant, tenant_id=tenant_claim))

    assert await _refused(_verifier(issuer, http), token) == (
        "token has an invalid tenant_id claim: not a lowercase slug"
    )


async def test_token_without_a_subject_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant, sub=None)

    assert await _refused(_verifier(issuer, http), token) == "token has no sub claim"


async def test_id_token_typed_jwt_is_not_taken_for_an_access_token(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.sign(issuer.claims(tenant), typ="JWT")

    reason = await _refused(_verifier(issuer, http), token)

    assert reason == "not an access token (typ must be at+jwt)"


async def test_key_rotated_at_the_issuer_is_picked_up_without_a_restart(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    verifier = _verifier(issuer, http, refresh=0.2)
    await verifier.verify(issuer.token(tenant))
    issuer.rotate()
    await asyncio.sleep(0.25)

    principal = await verifier.verify(issuer.token(tenant))

    assert principal.tenant_id == tenant
    assert issuer.jwks_requests == 2


async def test_retired_key_is_refused_after_rotation(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    verifier = _verifier(issuer, http, refresh=0.0)
    old_token = issuer.token(tenant)
    issuer.rotate()
    await verifier.verify(issuer.token(tenant))

    assert await _refused(verifier, old_token) == "token signed with an unknown key"


async def test_flood_of_unknown_key_ids_fetches_the_jwks_at_most_once_per_interval(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    verifier = _verifier(issuer, http, refresh=60.0)
    await verifier.verify(issuer.token(tenant))
    bogus = [issuer.sign(issuer.claims(tenant), kid=f"bogus-{n}") for n in range(200)]

    results = await asyncio.gather(*(verifier.verify(t) for t in bogus), return_exceptions=True)

    assert all(isinstance(result, InvalidToken) for result in results)
    assert issuer.jwks_requests == 1


async def test_unknown_key_id_triggers_one_refetch_once_the_interval_has_passed(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    verifier = _verifier(issuer, http, refresh=0.2)
    await verifier.verify(issuer.token(tenant))
    await asyncio.sleep(0.25)
    bogus = [issuer.sign(issuer.claims(tenant), kid=f"bogus-{n}") for n in range(50)]

    await asyncio.gather(*(verifier.verify(t) for t in bogus), return_exceptions=True)

    assert issuer.jwks_requests == 2


async def test_unreachable_issuer_refuses_tokens_with_a_reason(
    http: httpx.AsyncClient, tenant: str
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens here
    silent = Issuer(url)
    verifier = TokenVerifier(RemoteKeys(http, issuer=url), issuer=url, audience=AUDIENCE)

    reason = await _refused(verifier, silent.token(tenant))

    assert reason == "the issuer's keys are unavailable"


async def test_discovery_naming_another_issuer_is_not_trusted(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    impostor = f"{issuer.url}/"  # discovery answers with the url without the slash
    keys = RemoteKeys(http, issuer=impostor)
    verifier = TokenVerifier(keys, issuer=impostor, audience=AUDIENCE)

    reason = await _refused(verifier, issuer.token(tenant, iss=impostor))

    assert reason == "the issuer's keys are unavailable"


def _verifier_reading(
    issuer: Issuer, http: httpx.AsyncClient, *, tenant: str = "tenant_id", roles: str = "roles"
) -> TokenVerifier:
    keys = RemoteKeys(http, issuer=issuer.url)
    claims = ClaimNames(tenant=tenant, roles=roles)
    return TokenVerifier(keys, issuer=issuer.url, audience=AUDIENCE, leeway=0, claims=claims)


async def test_roles_at_a_dotted_path_are_read_from_nested_claims(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    # Keycloak's realm roles
    token = issuer.token(tenant, roles=None, realm_access={"roles": ["auditor", "offline_access"]})

    principal = await _verifier_reading(issuer, http, roles="realm_access.roles").verify(token)

    assert principal.roles == frozenset({Role.AUDITOR})


async def test_roles_of_one_client_are_read_from_resource_access(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(
        tenant,
        roles=None,
        resource_access={"okrledger": {"roles": ["editor"]}, "other": {"roles": ["admin"]}},
    )

    verifier = _verifier_reading(issuer, http, roles="resource_access.okrledger.roles")

    assert (await verifier.verify(token)).roles == frozenset({Role.EDITOR})


async def test_tenant_at_a_dotted_path_is_read_from_nested_claims(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant, tenant_id=None, organization={"tenant_id": tenant})

    verifier = _verifier_reading(issuer, http, tenant="organization.tenant_id")

    assert (await verifier.verify(token)).tenant_id == tenant


async def test_namespaced_claim_names_holding_dots_are_read_as_plain_keys(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    # Auth0's custom claims must be namespaced with a URL
    token = issuer.token(
        tenant,
        tenant_id=None,
        roles=None,
        **{
            "https://okrledger.example/tenant_id": tenant,
            "https://okrledger.example/roles": ["viewer"],
        },
    )
    verifier = _verifier_reading(
        issuer,
        http,
        tenant="https://okrledger.example/tenant_id",
        roles="https://okrledger.example/roles",
    )

    principal = await verifier.verify(token)

    assert (principal.tenant_id, principal.roles) == (tenant, frozenset({Role.VIEWER}))


async def test_a_claim_with_the_exact_dotted_name_wins_over_the_nested_path(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(
        tenant, roles=None, **{"realm_access.roles": ["viewer"]}, realm_access={"roles": ["admin"]}
    )

    principal = await _verifier_reading(issuer, http, roles="realm_access.roles").verify(token)

    assert principal.roles == frozenset({Role.VIEWER})


async def test_a_dotted_tenant_path_that_leads_nowhere_is_refused_naming_the_path(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant, organization="acme")  # a string, not an object

    verifier = _verifier_reading(issuer, http, tenant="organization.tenant_id")

    assert await _refused(verifier, token) == "token has no organization.tenant_id claim"


async def test_a_dotted_roles_path_to_something_not_a_list_is_refused(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str
) -> None:
    token = issuer.token(tenant, realm_access={"roles": {"admin": True}})

    verifier = _verifier_reading(issuer, http, roles="realm_access.roles")

    assert await _refused(verifier, token) == "token has an invalid realm_access.roles claim"


async def test_claim_paths_from_the_settings_reach_the_verifier(
    issuer: Issuer, http: httpx.AsyncClient, tenant: str, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        oidc_issuer=issuer.url,
        tenant_claim="https://okrledger.example/tenant_id",
        roles_claim="realm_access.roles",
    )
    token = issuer.token(
        tenant,
        tenant_id=None,
        roles=None,
        realm_access={"roles": ["integrator"]},
        **{"https://okrledger.example/tenant_id": tenant},
    )

    principal = await build_auth(settings, http).verifier.verify(token)

    assert (principal.tenant_id, principal.roles) == (tenant, frozenset({Role.INTEGRATOR}))
