"""`okrledger token`: a development token the server's own verifier accepts."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from subprocess import PIPE

import httpx

from okrledger.infra.auth import build_auth, development_issuer
from okrledger.infra.settings import Settings
from okrledger.services.identity import Role

OKRLEDGER = [sys.executable, "-c", "from okrledger.infra.cli import main; main()"]


async def okrledger(*args: str, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *OKRLEDGER, *args, env={**os.environ, **env}, stdout=PIPE, stderr=PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode().strip(), err.decode().strip()


async def test_a_minted_token_is_accepted_with_its_tenant_subject_and_roles(
    tmp_path: Path,
) -> None:
    code, token, err = await okrledger(
        "token",
        "--tenant",
        "acme",
        "--sub",
        "alice",
        "--roles",
        "editor,auditor",
        "--data-dir",
        str(tmp_path),
    )
    assert code == 0, err

    async with httpx.AsyncClient() as http:
        auth = build_auth(Settings(data_dir=tmp_path), http)
        principal = await auth.verifier.verify(token)

    assert (principal.tenant_id, principal.subject) == ("acme", "alice")
    assert principal.roles == {Role.EDITOR, Role.AUDITOR}


async def test_no_development_token_while_a_real_issuer_is_configured(tmp_path: Path) -> None:
    code, token, err = await okrledger(
        "token",
        "--tenant",
        "acme",
        "--sub",
        "alice",
        "--data-dir",
        str(tmp_path),
        OIDC_ISSUER="https://login.example.com",
    )

    assert (code, token) == (2, "")
    assert "development tokens are off" in err


async def test_unknown_roles_and_bad_tenants_are_refused_with_a_reason(tmp_path: Path) -> None:
    wizard = await okrledger(
        "token", "--tenant", "acme", "--sub", "a", "--roles", "wizard", "--data-dir", str(tmp_path)
    )
    shouting = await okrledger(
        "token", "--tenant", "ACME", "--sub", "a", "--data-dir", str(tmp_path)
    )

    assert wizard[0] == 2 and "roles must be among admin, editor" in wizard[2]
    assert shouting[0] == 2 and "invalid tenant id 'ACME'" in shouting[2]


async def test_a_tenant_ending_in_a_newline_mints_nothing_and_says_why_in_one_line(
    tmp_path: Path,
) -> None:
    code, token, err = await okrledger(
        "token", "--tenant", "demo\n", "--sub", "a", "--data-dir", str(tmp_path)
    )

    assert (code, token) == (2, "")
    assert err.splitlines() == ["okrledger: invalid tenant id 'demo\\n': use a lowercase slug"]


def test_every_process_on_a_data_directory_agrees_on_the_development_issuer(
    tmp_path: Path,
) -> None:
    served = development_issuer(Settings(data_dir=tmp_path, port=8777))
    minted_by_cli = development_issuer(Settings(data_dir=tmp_path))

    assert served.issuer == minted_by_cli.issuer == "http://127.0.0.1:8777"


async def test_no_development_token_while_a_jwks_url_is_configured(tmp_path: Path) -> None:
    code, token, err = await okrledger(
        "token",
        "--tenant",
        "acme",
        "--sub",
        "alice",
        "--data-dir",
        str(tmp_path),
        OIDC_ISSUER="https://login.example.com",
        JWKS_URL="https://login.example.com/keys",
    )

    assert (code, token) == (2, "")
    assert "development tokens are off" in err
