"""The `okrledger` command line."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta
from importlib.util import find_spec
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from okrledger.infra.auth import DevelopmentIssuerDisabled, development_issuer
from okrledger.infra.bootstrap import start_runtime
from okrledger.infra.cli_audit import audit_app
from okrledger.infra.cli_common import (
    EXIT_USAGE,
    ConfigFile,
    DataDir,
    owner_database,
    reported_failures,
    settings_for,
)
from okrledger.infra.cli_projections import projections_app
from okrledger.infra.cli_tenants import tenants_app
from okrledger.infra.demo import DemoReport, seed_demo
from okrledger.infra.logging import configure_logging
from okrledger.infra.metrics_processes import shared_metrics
from okrledger.infra.migrations.runner import migrate as apply_migrations
from okrledger.infra.settings import Settings
from okrledger.services.identity import Role

app = typer.Typer(
    help="okrledger: event-sourced, multi-tenant OKRs and KPIs over GraphQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(projections_app, name="projections")
app.add_typer(audit_app, name="audit")
app.add_typer(tenants_app, name="tenants")


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Raising unwinds every `with`, so the embedded PostgreSQL is stopped, not orphaned.
    raise SystemExit(128 + signum)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    demo: Annotated[bool, typer.Option(help="Seed the demo tenant first (idempotent).")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Serve the API; an embedded PostgreSQL unless DATABASE_URL is set. Stops on SIGINT/SIGTERM."""
    settings = settings_for(data_dir, config)
    configure_logging(settings.log_level)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with owner_database(settings, share=False) as dsn, shared_metrics(workers):
        # Worker processes read their settings from the environment.
        os.environ["DATABASE_URL"] = dsn
        os.environ["OKRLEDGER_DATA_DIR"] = str(settings.data_dir)
        os.environ["OKRLEDGER_HOST"] = host or settings.host
        os.environ["OKRLEDGER_PORT"] = str(port or settings.port)
        if demo:
            asyncio.run(_seed_demo(settings, dsn, DEMO_TENANT))
        uvicorn.run(
            "okrledger.infra.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            log_config=None,
            timeout_graceful_shutdown=10,
            http=_http_protocol(),
        )


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="The tenant the token acts in.")],
    sub: Annotated[str, typer.Option(help="The subject: who acts (becomes each event's actor).")],
    roles: Annotated[
        str, typer.Option(help="Comma-separated: admin, editor, viewer, auditor, integrator.")
    ] = "editor",
    hours: Annotated[float, typer.Option(min=0.01, max=24 * 30, help="Lifetime.")] = 8,
    data_dir: DataDir = None,
) -> None:
    """Print a development access token (only while no real issuer is configured)."""
    settings = settings_for(data_dir)
    wanted = [r.strip() for r in roles.split(",") if r.strip()]
    known = [role.value for role in Role]
    if not wanted or any(r not in known for r in wanted):
        typer.echo(f"okrledger: roles must be among {', '.join(known)}; got {roles!r}", err=True)
        raise typer.Exit(code=EXIT_USAGE)
    try:
        issuer = development_issuer(settings)
        typer.echo(issuer.mint(tenant, sub, wanted, timedelta(hours=hours)))
    except (DevelopmentIssuerDisabled, ValueError) as error:
        typer.echo(f"okrledger: {error}", err=True)
        raise typer.Exit(code=EXIT_USAGE) from None


def _http_protocol() -> str:
    """Request heads over 16 KB are refused as they arrive: by our bounded httptools protocol
    (infra/http_server.py), or by h11's own limit where httptools is not installed."""
    return "okrledger.infra.http_server:BoundedHeaders" if find_spec("httptools") else "h11"


DEMO_TENANT = "demo"


async def _seed_demo(settings: Settings, dsn: str, tenant: str) -> DemoReport:
    runtime = await start_runtime(
        settings.model_copy(update={"database_url": dsn}), background=False
    )
    try:
        return await seed_demo(runtime.handler, tenant, follow=runtime.kpi_policy)
    finally:
        await runtime.close()


@app.command()
def demo(
    tenant: Annotated[str, typer.Option(help="The tenant to seed.")] = DEMO_TENANT,
    data_dir: DataDir = None,
) -> None:
    """Seed a realistic tenant: a company objective, aligned team objectives, key results,
    check-ins and revisions. Running it again changes nothing."""
    settings = settings_for(data_dir)
    configure_logging("WARNING")
    with owner_database(settings) as dsn:
        report = asyncio.run(_seed_demo(settings, dsn, tenant))
    typer.echo(
        f"tenant {report.tenant_id!r}: {len(report.objective_ids)} objectives and "
        f"{len(report.kpi_ids)} KPIs in cycle "
        f"{report.cycle_id}\ntry: okrledger token --tenant {tenant} --sub you --roles editor"
    )


@app.command()
def migrate(data_dir: DataDir = None) -> None:
    """Apply pending schema migrations and exit."""
    settings = settings_for(data_dir)
    configure_logging(settings.log_level)
    with owner_database(settings) as dsn:
        applied = asyncio.run(apply_migrations(dsn, app_password=settings.app_db_password))
    typer.echo(f"applied {len(applied)} migration(s)" + (f": {applied}" if applied else ""))


def main() -> None:
    with reported_failures():
        app()
