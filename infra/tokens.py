"""Bearer access tokens (RFC 9068 JWT profile) turned into a verified `Principal`.

Signature and claims are checked by authlib's `JWTBearerTokenValidator`; around it, this module
refuses what that validator leaves open: any algorithm but RS256/ES256, oversized or malformed
tokens, tokens without a key id, and tokens without a valid tenant. Every refusal is one
`InvalidToken` whose `reason` is safe to show the caller.

A client sends the same token with every request until it expires, and checking its
signature is a good part of a small request's cost; so a verified token's principal is
kept for a short while (`REMEMBER_SECONDS`, never past the token's own expiry), in a
bounded table keyed by the whole token text. A key withdrawn from the issuer's set stops
the tokens it signed within that while.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from joserfc.errors import (
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key, KeySet

from okrledger.infra.db import InvalidTenant, check_tenant_id
from okrledger.infra.jwks import KeySource, KeysUnavailable
from okrledger.services.identity import Principal, Role

ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256"})
MAX_TOKEN_BYTES = 8 * 1024
REMEMBER_SECONDS = 60
REMEMBERED_TOKENS = 4096

log = logging.getLogger(__name__)


class InvalidToken(Exception):
    """The bearer token was refused; `reason` says why, without leaking anything secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ClaimNames:
    """Where the tenant and the roles are: a claim's name, or a dotted path into nested claims
    (`realm_access.roles`)."""

    tenant: str = "tenant_id"
    roles: str = "roles"


class _Validator(JWTBearerTokenValidator):  # type: ignore[misc]
    """authlib's RFC 9068 validator, verifying with the one key the token's `kid` names."""

    def __init__(self, issuer: str, audience: str, key: Key) -> None:
        super().__init__(issuer=issuer, resource_server=audience)
        self._key = key

    def get_jwks(self) -> KeySet:
        return KeySet([self._key])


class TokenVerifier:
    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        leeway: int = 30,
        claims: ClaimNames = ClaimNames(),
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._claims = claims
        # token text -> (principal, remembered until: a time.time())
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        """The principal `token` names, or `InvalidToken`."""
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("token too large")
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, until = remembered
            if time.time() < until:
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
        header = _header(token)
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise InvalidToken(
                f"signing algorithm not accepted (use {', '.join(ALLOWED_ALGORITHMS)})"
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token has no key id")
        try:
            key = await self._keys.key(kid)
        except KeysUnavailable as error:
            log.warning("cannot verify tokens: %s", error)
            raise InvalidToken("the issuer's keys are unavailable") from error
        if key is None:
            raise InvalidToken("token signed with an unknown key")
        claims = self._validated_claims(token, key)
        principal = self._principal(claims)
        self._remember(token, principal, claims.get("exp"))
        return principal

    def _remember(self, token: str, principal: Principal, expires: object) -> None:
        until = time.time() + REMEMBER_SECONDS
        if isinstance(expires, int | float) and not isinstance(expires, bool):
            until = min(until, float(expires) + self._leeway)
        self._verified[token] = (principal, until)
        if len(self._verified) > REMEMBERED_TOKENS:
            self._verified.popitem(last=False)

    def _validated_claims(self, token: str, key: Key) -> dict[str, Any]:
        validator = _Validator(self._issuer, self._audience, key)
        try:
            claims = validator.authenticate_token(token)
            claims.validate(leeway=self._leeway)
        except InvalidTokenError as error:
            raise InvalidToken(_reason(error.__cause__)) from None
        except JoseError as error:
            raise InvalidToken(_reason(error)) from None
        return dict(claims)

    def _principal(self, claims: dict[str, Any]) -> Principal:
        tenant = claim(claims, self._claims.tenant)
        if tenant is None:
            raise InvalidToken(f"token has no {self._claims.tenant} claim")
        try:
            tenant_id = check_tenant_id(tenant) if isinstance(tenant, str) else ""
        except InvalidTenant:
            tenant_id = ""
        if not tenant_id:
            raise InvalidToken(
                f"token has an invalid {self._claims.tenant} claim: not a lowercase slug"
            )
        client_id = claims.get("client_id")
        return Principal(
            subject=str(claims["sub"]),
            tenant_id=tenant_id,
            roles=_roles(claim(claims, self._claims.roles), self._claims.roles),
            client_id=client_id if isinstance(client_id, str) else None,
        )


def claim(claims: dict[str, Any], name: str) -> object:
    """The claim `name`, or None: the exact key first, since namespaced claims hold dots
    (Auth0's `https://okrledger.example/tenant_id`), then the dotted path through nested
    objects (Keycloak's `realm_access.roles`)."""
    if name in claims:
        return claims[name]
    value: object = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _header(token: str) -> dict[str, Any]:
    segments = token.split(".")
    if len(segments) != 3 or not all(segments):
        raise InvalidToken("malformed token")
    encoded = segments[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidToken("malformed token") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed token")
    return header


def _roles(value: object, claim: str) -> frozenset[Role]:
    # Both a JSON list and an OAuth-style space-separated string are common in the wild.
    names = value.split() if isinstance(value, str) else value
    if names is None:
        return frozenset()
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise InvalidToken(f"token has an invalid {claim} claim")
    known = {role.value: role for role in Role}
    # Roles the issuer knows but okrledger does not grant nothing, and are ignored.
    return frozenset(known[name] for name in names if name in known)


def _reason(error: BaseException | None) -> str:
    if isinstance(error, ExpiredTokenError):
        return "token expired"
    if isinstance(error, MissingClaimError):
        return f"token has no {error.claim} claim"
    if isinstance(error, InvalidClaimError):
        return {
            "nbf": "token not yet valid",
            "iat": "token issued in the future",
            "iss": "token from another issuer",
            "aud": "token meant for another audience",
            "typ": "not an access token (typ must be at+jwt)",
        }.get(error.claim, f"token has an invalid {error.claim} claim")
    return "token signature or encoding is invalid"
