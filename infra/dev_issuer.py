"""The development issuer: with no real issuer configured, the server signs its own access tokens.

Its EC P-256 key is created once under the data directory (`dev-issuer-key.json`, mode 0600) and
reused by every later start, so tokens minted by `okrledger token` stay valid across restarts.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from okrledger.infra.db import check_tenant_id
from okrledger.infra.jwks import StaticKeys
from okrledger.services.identity import Role

KEY_FILE = "dev-issuer-key.json"
JWKS_PATH = "/.well-known/jwks.json"
DISCOVERY_PATH = "/.well-known/openid-configuration"
ALGORITHM = "ES256"
DEV_CLIENT_ID = "okrledger-dev"


@dataclass(frozen=True)
class IssuerDocuments:
    """What the app serves at DISCOVERY_PATH and JWKS_PATH while it is its own issuer."""

    openid_configuration: dict[str, Any]
    jwks: dict[str, Any]


class DevelopmentIssuer:
    def __init__(self, key: ECKey, *, issuer: str, audience: str) -> None:
        self._key = key
        self.issuer = issuer
        self.audience = audience

    @classmethod
    def load_or_create(cls, data_dir: Path, *, issuer: str, audience: str) -> DevelopmentIssuer:
        """The issuer whose key lives in `data_dir`, creating the key on first use."""
        return cls(_load_or_create_key(data_dir / KEY_FILE), issuer=issuer, audience=audience)

    @property
    def kid(self) -> str:
        return str(self._key.kid)

    def mint(
        self,
        tenant: str,
        subject: str,
        roles: Iterable[Role | str],
        ttl: timedelta = timedelta(hours=8),
        *,
        client_id: str = DEV_CLIENT_ID,
    ) -> str:
        """A signed RFC 9068 access token for `subject` in `tenant` holding `roles`."""
        check_tenant_id(tenant)
        if not subject:
            raise ValueError("a token needs a subject")
        role_names = sorted({Role(role).value for role in roles})
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "client_id": client_id,
            "tenant_id": tenant,
            "roles": role_names,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self._public_jwk()]}

    def key_source(self) -> StaticKeys:
        """Its public key, for a verifier that trusts this issuer directly (no HTTP round trip)."""
        return StaticKeys(KeySet([ECKey.import_key(self._public_jwk())]))

    def documents(self) -> IssuerDocuments:
        return IssuerDocuments(
            openid_configuration={
                "issuer": self.issuer,
                "jwks_uri": self.issuer.rstrip("/") + JWKS_PATH,
                "id_token_signing_alg_values_supported": [ALGORITHM],
                "token_endpoint_auth_methods_supported": ["none"],
                "response_types_supported": [],
                "subject_types_supported": ["public"],
            },
            jwks=self.public_jwks(),
        )

    def _public_jwk(self) -> dict[str, Any]:
        return {**self._key.as_dict(private=False), "use": "sig", "alg": ALGORITHM}


def _load_or_create_key(path: Path) -> ECKey:
    if not path.exists():
        _create_key(path)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    data = json.loads(path.read_text(encoding="utf-8"))
    key = ECKey.import_key(data)
    if not key.is_private:
        raise ValueError(f"{path} holds no private key")
    return key


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ECKey.generate_key("P-256", auto_kid=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(key.as_dict(private=True), file)
        # link() fails when the file exists, so of two servers starting at once one key wins.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink()


def development_issuer_url(host: str, port: int) -> str:
    """The dev issuer's `iss`: the server's own address (a wildcard bind means localhost)."""
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
