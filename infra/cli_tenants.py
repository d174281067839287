"""`okrledger tenants list`: who has data here, how much, and since when it is quiet."""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from okrledger.infra.cli_common import DataDir, owner_database, settings_for
from okrledger.infra.tenant_activity import TenantActivity, tenant_activity

tenants_app = typer.Typer(help="The tenants of this database.")


@tenants_app.command("list")
def list_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array instead of a table.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Each tenant with its event count, head position and last activity (newest event's
    recorded time)."""
    with owner_database(settings_for(data_dir)) as dsn:
        tenants = asyncio.run(tenant_activity(dsn))
    if as_json:
        typer.echo(orjson.dumps([tenant.as_json() for tenant in tenants]).decode())
        return
    Console().print(_table(tenants))


def _table(tenants: list[TenantActivity]) -> Table:
    table = Table("tenant", "events", "head position", "last activity (UTC)")
    for tenant in tenants:
        last = tenant.last_activity
        table.add_row(
            tenant.tenant_id,
            str(tenant.events),
            str(tenant.head_position),
            last.astimezone(UTC).isoformat(timespec="seconds") if last else "-",
        )
    return table
