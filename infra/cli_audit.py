"""`okrledger audit export|verify|check`: the tenant's hash chain, for auditors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import asyncpg
import typer

from okrledger.infra.audit import export_chain, verify_chain
from okrledger.infra.audit_chain import ChainCheck, InvalidExport, verify_export
from okrledger.infra.cli_common import DataDir, owner_database, settings_for
from okrledger.infra.db import InvalidTenant, check_tenant_id, set_tenant

T = TypeVar("T")
audit_app = typer.Typer(help="Verify and export each tenant's tamper-evident history.")

Tenant = Annotated[str, typer.Option(help="The tenant whose log to read.")]
FromPosition = Annotated[int, typer.Option("--from", min=1, help="First position.")]
ToPosition = Annotated[int | None, typer.Option("--to", min=1, help="Last position.")]


async def _in_tenant(
    dsn: str, tenant: str, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction(readonly=True):
            await set_tenant(connection, tenant)
            return await work(connection)
    finally:
        await connection.close()


def _tenant(tenant: str) -> str:
    try:
        return check_tenant_id(tenant)
    except InvalidTenant as error:
        typer.echo(f"okrledger: {error}", err=True)
        raise typer.Exit(code=2) from None


def _report(check: ChainCheck) -> None:
    if check.ok:
        typer.echo(f"ok: {check.checked} events, chain intact up to position {check.last_position}")
        return
    typer.echo(f"BROKEN at position {check.broken_at}: {check.problem}", err=True)
    raise typer.Exit(code=1)


@audit_app.command("export")
def export_command(
    tenant: Tenant,
    out: Annotated[Path, typer.Option(help="The JSON lines file to write.")],
    from_position: FromPosition = 1,
    to_position: ToPosition = None,
    data_dir: DataDir = None,
) -> None:
    """Write the tenant's events with their hashes as JSON lines (constant memory)."""
    tenant = _tenant(tenant)
    with owner_database(settings_for(data_dir)) as dsn:
        written = asyncio.run(
            _in_tenant(
                dsn, tenant, lambda c: export_chain(c, tenant, out, from_position, to_position)
            )
        )
    typer.echo(f"exported {written} events to {out}")


@audit_app.command("verify")
def verify_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Check an export's hash chain offline, with no database. Exit 1 when broken."""
    with file.open("rb") as lines:
        try:
            check = verify_export(lines)
        except InvalidExport as error:
            typer.echo(f"okrledger: {file}: {error}", err=True)
            raise typer.Exit(code=2) from None
    _report(check)


@audit_app.command("check")
def check_command(
    tenant: Tenant,
    from_position: FromPosition = 1,
    to_position: ToPosition = None,
    data_dir: DataDir = None,
) -> None:
    """Recompute the tenant's chain from the database as it is now. Exit 1 when broken."""
    tenant = _tenant(tenant)
    with owner_database(settings_for(data_dir)) as dsn:
        check = asyncio.run(
            _in_tenant(dsn, tenant, lambda c: verify_chain(c, tenant, from_position, to_position))
        )
    _report(check)
