"""What every `okrledger` command shares: settings, the data directory, the owner database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from okrledger.infra.embedded_pg import DataDirectoryInUse, EmbeddedPostgres, running_server_dsn
from okrledger.infra.settings import CONFIG_FILE_VARIABLE, ConfigFileError, Settings

DataDir = Annotated[
    Path | None,
    typer.Option(help="Data directory (embedded PostgreSQL, dev signing key).", show_default=False),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help=f"TOML configuration file (sets {CONFIG_FILE_VARIABLE}); environment variables "
        "override it.",
        show_default=False,
    ),
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


def settings_for(data_dir: Path | None, config: Path | None = None) -> Settings:
    """The settings, or exit 2 saying which setting is wrong and why."""
    if config is not None:
        # Worker processes read their settings again, from the environment.
        os.environ[CONFIG_FILE_VARIABLE] = str(config.resolve())
    try:
        settings = Settings()
    except ConfigFileError as error:
        typer.echo(f"okrledger: {error}", err=True)
        raise typer.Exit(code=2) from None
    except ValidationError as error:
        typer.echo(f"okrledger: invalid configuration\n{describe(error)}", err=True)
        raise typer.Exit(code=2) from None
    if data_dir is not None:
        settings.data_dir = data_dir
    return settings


def describe(error: ValidationError) -> str:
    """One line per wrong setting: its name, what is wrong, and the value given."""
    source = os.environ.get(CONFIG_FILE_VARIABLE)
    where = f"the environment or {source}" if source else "the environment"
    lines = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"]) or "settings"
        if problem["type"] == "extra_forbidden":
            lines.append(f"  {name}: not a setting (in {where})")
        else:
            given = f" (got {problem['input']!r})" if "input" in problem else ""
            lines.append(f"  {name}: {problem['msg']}{given}")
    return "\n".join(lines)
