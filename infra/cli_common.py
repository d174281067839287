"""What every `okrledger` command shares: settings, the data directory, the owner database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from okrledger.infra.embedded_pg import DataDirectoryInUse, EmbeddedPostgres, running_server_dsn
from okrledger.infra.settings import Settings

DataDir = Annotated[
    Path | None,
    typer.Option(help="Data directory (embedded PostgreSQL, dev signing key).", show_default=False),
]


@contextmanager
def owner_database(settings: Settings, *, share: bool = True) -> Iterator[str]:
    """The owner DSN: DATABASE_URL, or the embedded PostgreSQL of the data directory.

    When a server already runs from that directory, `share` uses its PostgreSQL
    (leaving it running); otherwise one is started here and stopped afterwards.
    """
    if settings.database_url:
        yield settings.database_url
        return
    try:
        with EmbeddedPostgres(settings.data_dir) as dsn:
            yield dsn
    except DataDirectoryInUse as error:
        running = running_server_dsn(settings.data_dir) if share else None
        if running is None:
            typer.echo(f"okrledger: {error}", err=True)
            raise typer.Exit(code=3) from None
        yield running


def settings_for(data_dir: Path | None) -> Settings:
    settings = Settings()
    if data_dir is not None:
        settings.data_dir = data_dir
    return settings
