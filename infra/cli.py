"""The `okrledger` command line."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from okrledger.infra.embedded_pg import DataDirectoryInUse, EmbeddedPostgres
from okrledger.infra.logging import configure_logging
from okrledger.infra.migrations.runner import migrate as apply_migrations
from okrledger.infra.settings import Settings

app = typer.Typer(
    help="okrledger: event-sourced, multi-tenant OKRs and KPIs over GraphQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

DataDir = Annotated[
    Path | None,
    typer.Option(help="Data directory (embedded PostgreSQL, dev signing key).", show_default=False),
]


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Raising unwinds every `with`, so the embedded PostgreSQL is stopped, not orphaned.
    raise SystemExit(128 + signum)


@contextmanager
def owner_database(settings: Settings) -> Iterator[str]:
    """The owner DSN: DATABASE_URL, or an embedded PostgreSQL in the data directory."""
    if settings.database_url:
        yield settings.database_url
        return
    try:
        with EmbeddedPostgres(settings.data_dir) as dsn:
            yield dsn
    except DataDirectoryInUse as error:
        typer.echo(f"okrledger: {error}", err=True)
        raise typer.Exit(code=3) from None


def _settings(data_dir: Path | None) -> Settings:
    settings = Settings()
    if data_dir is not None:
        settings.data_dir = data_dir
    return settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    data_dir: DataDir = None,
) -> None:
    """Serve the API; an embedded PostgreSQL unless DATABASE_URL is set. Stops on SIGINT/SIGTERM."""
    settings = _settings(data_dir)
    configure_logging(settings.log_level)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with owner_database(settings) as dsn:
        # Worker processes read their settings from the environment.
        os.environ["DATABASE_URL"] = dsn
        os.environ["OKRLEDGER_DATA_DIR"] = str(settings.data_dir)
        uvicorn.run(
            "okrledger.infra.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            log_config=None,
            timeout_graceful_shutdown=10,
        )


@app.command()
def migrate(data_dir: DataDir = None) -> None:
    """Apply pending schema migrations and exit."""
    settings = _settings(data_dir)
    configure_logging(settings.log_level)
    with owner_database(settings) as dsn:
        applied = asyncio.run(apply_migrations(dsn, app_password=settings.app_db_password))
    typer.echo(f"applied {len(applied)} migration(s)" + (f": {applied}" if applied else ""))


def main() -> None:
    app()
