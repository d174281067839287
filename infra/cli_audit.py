"""`okrledger audit export|verify|check|log`: hash chain and change log, for auditors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar
from uuid import UUID

import asyncpg
import typer

from okrledger.domain.errors import InvalidValue
from okrledger.infra.audit import export_chain, verify_chain
from okrledger.infra.audit_chain import ChainCheck, InvalidExport, verify_export
from okrledger.infra.audit_log import LogFormat, export_audit_log
from okrledger.infra.cli_common import (
    EXIT_CHECK_FAILED,
    EXIT_USAGE,
    DataDir,
    owner_database,
    settings_for,
    written_atomically,
)
from okrledger.infra.db import InvalidTenant, check_tenant_id, set_tenant
from okrledger.projections.history_queries import HistoryFilter
from okrledger.projections.public_events import asked_types, event_names

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
        raise typer.Exit(code=EXIT_USAGE) from None


def _report(check: ChainCheck) -> None:
    if check.ok:
        typer.echo(f"ok: {check.checked} events, chain intact up to position {check.last_position}")
        return
    typer.echo(f"BROKEN at position {check.broken_at}: {check.problem}", err=True)
    raise typer.Exit(code=EXIT_CHECK_FAILED)


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
    with owner_database(settings_for(data_dir)) as dsn, written_atomically(out) as partial:
        written = asyncio.run(
            _in_tenant(
                dsn, tenant, lambda c: export_chain(c, tenant, partial, from_position, to_position)
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
            raise typer.Exit(code=EXIT_USAGE) from None
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


def _time(given: str | None, option: str) -> datetime | None:
    if given is None:
        return None
    try:
        found = datetime.fromisoformat(given)
    except ValueError:
        found = None
    if found is None or found.utcoffset() is None:
        typer.echo(
            f"okrledger: {option} wants an ISO time with a time zone, e.g. "
            f"2026-03-31T23:59:59Z; got {given!r}",
            err=True,
        )
        raise typer.Exit(code=EXIT_USAGE)
    return found


def _event_types(given: list[str] | None) -> list[str]:
    """The change log's event names for the types and families asked for, checked by the
    parser every type filter uses."""
    try:
        asked = asked_types(given, field="--event-type")
    except InvalidValue as error:
        typer.echo(f"okrledger: {error.message}", err=True)
        raise typer.Exit(code=EXIT_USAGE) from None
    return [] if asked is None else event_names(asked)


@audit_app.command("log")
def log_command(
    tenant: Tenant,
    out: Annotated[Path, typer.Option(help="The file to write.")],
    format: Annotated[LogFormat, typer.Option(help="csv (with a header row) or jsonl.")] = (
        LogFormat.JSONL
    ),
    actor: Annotated[
        list[str] | None, typer.Option(help="Only changes by this actor (repeatable).")
    ] = None,
    event_type: Annotated[
        list[str] | None,
        typer.Option(
            help="Only this public event type or family, e.g. okr.key_result.revised.v1 "
            "or kpi.* (repeatable)."
        ),
    ] = None,
    stream: Annotated[
        UUID | None, typer.Option(help="Only this cycle, objective or setting (its id).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Recorded at or after this time.")] = None,
    until: Annotated[str | None, typer.Option(help="Recorded before this time.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Write the tenant's change log, oldest first, filtered like the auditLog query
    (streamed: constant memory however long the log)."""
    tenant = _tenant(tenant)
    where = HistoryFilter(
        stream_id=stream,
        actors=actor or [],
        event_types=_event_types(event_type),
        since=_time(since, "--since"),
        until=_time(until, "--until"),
    )
    if where.since and where.until and where.until < where.since:
        typer.echo("okrledger: --until is before --since", err=True)
        raise typer.Exit(code=EXIT_USAGE)
    with owner_database(settings_for(data_dir)) as dsn, written_atomically(out) as partial:
        written = asyncio.run(
            _in_tenant(dsn, tenant, lambda c: export_audit_log(c, where, partial, format))
        )
    typer.echo(f"exported {written} entries to {out}")
