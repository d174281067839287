"""`okrledger projections rebuild|status`: read models rebuilt from the log, and their lag."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import asyncpg
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from okrledger.infra.bootstrap import live_projections
from okrledger.infra.cli_common import EXIT_USAGE, DataDir, owner_database, settings_for
from okrledger.infra.db import InvalidTenant, check_tenant_id, set_tenant
from okrledger.infra.rebuild import RebuildRefused, rebuild
from okrledger.projections.base import Projection

projections_app = typer.Typer(help="Rebuild read models from the event log, or show their state.")
console = Console(stderr=True)


def chosen(names: list[str] | None) -> list[Projection]:
    available = {p.name: p for p in live_projections()}
    if not names:
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        known = ", ".join(sorted(available)) or "none"
        typer.echo(f"okrledger: unknown projection {', '.join(unknown)} (known: {known})", err=True)
        raise typer.Exit(code=EXIT_USAGE)
    return [available[n] for n in names]


async def _rebuild(dsn: str, projections: list[Projection], tenant: str | None) -> None:
    # Reach the database before drawing progress: a failure is then its one line alone.
    await (await asyncpg.connect(dsn)).close()
    began = time.monotonic()
    with Progress(
        TextColumn("[bold]rebuilding"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events · {task.fields[rate]:,.0f}/s ·"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("rebuild", total=None, rate=0.0)

        def report(done: int, total: int) -> None:
            rate = done / max(time.monotonic() - began, 1e-9)
            progress.update(task, completed=done, total=total, rate=rate)

        result = await rebuild(dsn, projections, tenant_id=tenant, progress=report)
    seconds = time.monotonic() - began
    typer.echo(
        f"rebuilt {', '.join(result.projections)} for {result.tenants} tenant(s): "
        f"{result.events} events in {seconds:.1f} s ({result.events / max(seconds, 1e-9):,.0f}/s)"
    )


async def _status(dsn: str, tenant: str | None) -> list[tuple[str, str, int, int]]:
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction(readonly=True):
            # As a non-superuser owner, forced RLS shows only the tenant set here.
            if tenant is not None:
                await set_tenant(connection, tenant)
            rows = await connection.fetch(
                """SELECT h.tenant_id, p.projection, coalesce(p.position, 0) AS position,
                          h.position AS head
                   FROM tenant_heads h
                   LEFT JOIN projection_positions p ON p.tenant_id = h.tenant_id
                   WHERE $1::text IS NULL OR h.tenant_id = $1
                   ORDER BY h.tenant_id, p.projection""",
                tenant,
            )
    finally:
        await connection.close()
    return [(r["tenant_id"], r["projection"] or "-", r["position"], r["head"]) for r in rows]


@projections_app.command("rebuild")
def rebuild_command(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (default: all).")] = None,
    projection: Annotated[
        list[str] | None, typer.Option(help="Only this projection (repeatable; default: all).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Replay the log into fresh tables and swap them in; the server keeps answering meanwhile."""
    selected = chosen(projection)
    _check_tenant(tenant)
    settings = settings_for(data_dir)
    with owner_database(settings) as dsn:
        try:
            asyncio.run(_rebuild(dsn, selected, tenant))
        except RebuildRefused as error:
            typer.echo(f"okrledger: {error}", err=True)
            raise typer.Exit(code=EXIT_USAGE) from None


@projections_app.command("status")
def status_command(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (default: all).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Each projection's position against each tenant's head: how far behind it is."""
    _check_tenant(tenant)
    settings = settings_for(data_dir)
    with owner_database(settings) as dsn:
        rows = asyncio.run(_status(dsn, tenant))
    table = Table("tenant", "projection", "position", "head", "behind")
    for tenant_id, name, position, head in rows:
        table.add_row(tenant_id, name, str(position), str(head), str(head - position))
    Console().print(table)


def _check_tenant(tenant: str | None) -> None:
    if tenant is None:
        return
    try:
        check_tenant_id(tenant)
    except InvalidTenant as error:
        typer.echo(f"okrledger: {error}", err=True)
        raise typer.Exit(code=EXIT_USAGE) from None
