"""The development issuer: its key kept in the data directory, its tokens, its served documents."""

from __future__ import annotations

import socket
import stat
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette

from okrledger.infra.auth import (
    DevelopmentIssuerDisabled,
    build_auth,
    development_issuer,
    development_issuer_routes,
)
from okrledger.infra.db import InvalidTenant
from okrledger.infra.dev_issuer import (
    KEY_FILE,
    DevelopmentIssuer,
    development_issuer_url,
)
from okrledger.infra.jwks import RemoteKeys
from okrledger.infra.settings import Settings
from okrledger.infra.tokens import InvalidToken, TokenVerifier
from okrledger.services.identity import Principal, Role

ISSUER = "http://localhost:8000"
# The `serve` fixture (tests/integration/conftest.py): serve an ASGI app on a bound socket.
Serve = Callable[[Any, socket.socket], AbstractAsyncContextManager[None]]


def _issuer(data_dir: Path, issuer: str = ISSUER) -> DevelopmentIssuer:
    return DevelopmentIssuer.load_or_create(data_dir, issuer=issuer, audience="okrledger")


def _trusting(issuer: DevelopmentIssuer) -> TokenVerifier:
    return TokenVerifier(issuer.key_source(), issuer=issuer.issuer, audience=issuer.audience)


async def test_minted_token_verifies_as_the_principal_it_names(tmp_path: Path, tenant: str) -> None:
    issuer = _issuer(tmp_path)

    token = issuer.mint(tenant, "alice", [Role.EDITOR, "viewer"])

    assert await _trusting(issuer).verify(token) == Principal(
        subject="alice",
        tenant_id=tenant,
        roles=frozenset({Role.EDITOR, Role.VIEWER}),
        client_id="okrledger-dev",
    )


async def test_minted_token_expires_after_its_ttl(tmp_path: Path, tenant: str) -> None:
    issuer = _issuer(tmp_path)

    token = issuer.mint(tenant, "alice", ["viewer"], ttl=timedelta(seconds=-60))

    with pytest.raises(InvalidToken, match="token expired"):
        await _trusting(issuer).verify(token)


def test_key_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    _issuer(tmp_path)

    mode = stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode)

    assert mode == 0o600


async def test_key_is_reused_by_a_later_instance(tmp_path: Path, tenant: str) -> None:
    token = _issuer(tmp_path).mint(tenant, "alice", ["admin"])

    restarted = _issuer(tmp_path)

    principal = await _trusting(restarted).verify(token)
    assert principal.roles == frozenset({Role.ADMIN})


async def test_token_from_another_data_directory_is_refused(tmp_path: Path, tenant: str) -> None:
    other = _issuer(tmp_path / "other").mint(tenant, "mallory", ["admin"])

    with pytest.raises(InvalidToken, match="unknown key"):
        await _trusting(_issuer(tmp_path / "mine")).verify(other)


def test_public_jwks_holds_no_private_material(tmp_path: Path) -> None:
    jwks = _issuer(tmp_path).public_jwks()

    (key,) = jwks["keys"]
    assert key["kty"] == "EC"
    assert "d" not in key


def test_mint_refuses_a_tenant_id_the_database_would_refuse(tmp_path: Path) -> None:
    with pytest.raises(InvalidTenant):
        _issuer(tmp_path).mint("Not A Slug", "alice", ["viewer"])


def test_mint_refuses_an_unknown_role(tmp_path: Path, tenant: str) -> None:
    with pytest.raises(ValueError, match="superuser"):
        _issuer(tmp_path).mint(tenant, "alice", ["superuser"])


async def test_served_discovery_and_jwks_let_a_remote_verifier_accept_its_tokens(
    tmp_path: Path, tenant: str, serve: Serve, free_socket: socket.socket
) -> None:
    # Given the dev issuer's documents served over HTTP, as the app serves them
    url = f"http://127.0.0.1:{free_socket.getsockname()[1]}"
    issuer = _issuer(tmp_path, issuer=url)
    app = Starlette(routes=development_issuer_routes(issuer))

    # When a verifier that only knows the issuer URL checks a minted token
    async with serve(app, free_socket), httpx.AsyncClient() as http:
        verifier = TokenVerifier(RemoteKeys(http, issuer=url), issuer=url, audience="okrledger")
        principal = await verifier.verify(issuer.mint(tenant, "bob", ["auditor"]))

    # Then it is accepted
    assert principal.subject == "bob"
    assert principal.roles == frozenset({Role.AUDITOR})


async def test_settings_without_an_issuer_give_a_development_issuer(
    tmp_path: Path, tenant: str
) -> None:
    settings = Settings(data_dir=tmp_path, port=8123, oidc_issuer=None, jwks_url=None)
    async with httpx.AsyncClient() as http:
        auth = build_auth(settings, http)

    assert auth.development_issuer is not None
    assert auth.development_issuer.issuer == "http://127.0.0.1:8123"
    token = development_issuer(settings).mint(tenant, "alice", ["editor"])
    assert (await auth.verifier.verify(token)).tenant_id == tenant


async def test_configured_issuer_turns_the_development_issuer_off(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, oidc_issuer="https://id.example.com")
    async with httpx.AsyncClient() as http:
        auth = build_auth(settings, http)

    assert auth.development_issuer is None
    assert not (tmp_path / KEY_FILE).exists()
    with pytest.raises(DevelopmentIssuerDisabled):
        development_issuer(settings)


def test_jwks_url_without_an_issuer_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="OIDC_ISSUER"):
        Settings(jwks_url="https://id.example.com/keys")


def test_wildcard_bind_address_gives_a_localhost_issuer_url() -> None:
    assert development_issuer_url("0.0.0.0", 8000) == "http://localhost:8000"
