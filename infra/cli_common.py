"""What every `okrledger` command shares: settings, the data directory, the owner database."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import asyncpg
import typer
from pydantic import ValidationError

from okrledger.infra.embedded_pg import DataDirectoryInUse, EmbeddedPostgres, running_server_dsn
from okrledger.infra.settings import CONFIG_FILE_VARIABLE, ConfigFileError, Settings

# What every command exits with (README "Exit codes", docs/auditing.md). 1 is kept for a
# check that ran and failed (a broken chain), so a script can tell it from not running.
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2  # bad arguments or configuration, an output file that cannot be written
EXIT_DATA_DIR_IN_USE = 3
EXIT_DATABASE = 4  # the database cannot be reached, or holds no okrledger schema

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
            raise typer.Exit(code=EXIT_DATA_DIR_IN_USE) from None
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
        raise typer.Exit(code=EXIT_USAGE) from None
    except ValidationError as error:
        typer.echo(f"okrledger: invalid configuration\n{describe(error)}", err=True)
        raise typer.Exit(code=EXIT_USAGE) from None
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


class OutputNotWritable(Exception):
    """The file a command was asked to write cannot be written there."""


@contextmanager
def written_atomically(out: Path) -> Iterator[Path]:
    """A temporary file beside `out` to write; it becomes `out` (by rename, so readers never
    see half a file) only when the block succeeds, and is removed when it fails."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    except OSError as error:
        raise OutputNotWritable(f"cannot write {out}: {error.strerror}") from None
    os.close(handle)
    partial = Path(name)
    try:
        # mkstemp makes it private (0600); the export gets the mode a plain open() would give.
        mask = os.umask(0)
        os.umask(mask)
        partial.chmod(0o666 & ~mask)
        yield partial
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


# Errors meaning the database is not there to talk to (as opposed to refusing a statement).
_UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.CannotConnectNowError,
)
# Errors meaning the database is there but was never migrated.
_NO_SCHEMA = (
    asyncpg.UndefinedTableError,
    asyncpg.UndefinedFunctionError,
    asyncpg.InvalidSchemaNameError,
)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"okrledger: {message}", err=True)
    sys.exit(code)


@contextmanager
def reported_failures() -> Iterator[None]:
    """Around a whole command: a failure it cannot help is one line on stderr and a
    documented exit code, never a traceback."""
    try:
        yield
    except OutputNotWritable as error:
        _fail(str(error), EXIT_USAGE)
    except _NO_SCHEMA as error:
        _fail(
            f"the database holds no okrledger schema; run `okrledger migrate` first "
            f"({_first_line(error)})",
            EXIT_DATABASE,
        )
    except _UNREACHABLE as error:
        _fail(f"cannot reach the database: {_first_line(error)}", EXIT_DATABASE)
    except asyncpg.PostgresError as error:
        _fail(f"the database refused: {_first_line(error)}", EXIT_DATABASE)
